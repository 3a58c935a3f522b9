using SharpClip.Pipelines;
using SharpClip.Vision;

namespace SharpClip.Generation.Studies;

/// <summary>
/// A CLIP model as a study's reranker or judge. Images go through the PNG encoding the <c>generate</c> verb writes and
/// the pipeline's own decoding and preprocessing, so a study scores exactly what a user of the written files would;
/// captions longer than the context are truncated (as CLIPScore's reference does).
/// </summary>
public sealed class ClipEmbedder(ClipPipeline pipeline, string name) : IImageTextEmbedder
{
    public string Name { get; } = name;

    public IReadOnlyList<float[]> EmbedTexts(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        using var embedded = pipeline.EmbedTexts(texts, normalize: true, truncate: true, cancellationToken: cancellationToken); // [texts, dim]
        var flat = embedded.data<float>().ToArray();
        int dim = pipeline.EmbeddingDimension;
        return [.. Enumerable.Range(0, texts.Count).Select(i => flat.AsSpan(i * dim, dim).ToArray())];
    }

    public IReadOnlyList<float[]> EmbedImages(IReadOnlyList<RgbImage> images, CancellationToken cancellationToken = default)
    {
        var encoded = images.Select((image, i) => (PngWriter.Encode(image), $"image {i}")).ToList();
        var results = pipeline.EmbedEncodedImages(encoded, normalize: true, cancellationToken);
        if (results.FirstOrDefault(r => !r.Succeeded) is { } failed)
            throw new InvalidDataException($"{Name}: could not embed {failed.Source}: {failed.Error}");
        return [.. results.Select(r => r.Vector!)];
    }
}
