namespace SharpClip.Search;

/// <summary>
/// Thrown when an index made by one model is queried or extended with another: cosine scores between embeddings of
/// different models mean nothing, so mixing them silently would return confident nonsense.
/// </summary>
public sealed class ModelMismatchException(string indexPath, string indexModel, string indexFingerprint, string model, string fingerprint)
    : InvalidOperationException(
        $"index '{indexPath}' was built with model '{indexModel}' (fingerprint {indexFingerprint}), but the model given is '{model}' " +
        $"(fingerprint {fingerprint}); use the index's model, or rebuild the index to re-embed every image")
{
    public string IndexPath { get; } = indexPath;
    public string IndexFingerprint { get; } = indexFingerprint;
    public string Fingerprint { get; } = fingerprint;
}
