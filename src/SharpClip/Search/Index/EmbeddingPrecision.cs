namespace SharpClip.Search;

/// <summary>How embeddings are stored on disk. Float16 halves the file; search always computes in float32.</summary>
public enum EmbeddingPrecision
{
    Float32,
    Float16,
}
