using SharpClip.Vision;

namespace SharpClip.Generation.Studies;

/// <summary>
/// What a study asks of a CLIP model, the reranker or the judge: embeddings of captions and of images. Behind this
/// seam the study's arithmetic (which candidate is kept, which caption ranks first) is checked with vectors chosen by
/// hand; <see cref="ClipEmbedder"/> answers it with any loadable CLIP.
/// </summary>
public interface IImageTextEmbedder
{
    /// <summary>Where the model came from (a path), for reports.</summary>
    string Name { get; }

    /// <summary>One vector per text, in order; need not be normalised (the study compares cosines).</summary>
    IReadOnlyList<float[]> EmbedTexts(IReadOnlyList<string> texts, CancellationToken cancellationToken = default);

    /// <summary>One vector per image, in order, in the same space as the texts.</summary>
    IReadOnlyList<float[]> EmbedImages(IReadOnlyList<RgbImage> images, CancellationToken cancellationToken = default);
}
