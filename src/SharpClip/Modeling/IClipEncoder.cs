using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// What inference asks of a CLIP model: image and text embeddings as float32 CPU tensors. <see cref="ClipModel"/> runs
/// them with libtorch; another engine (ONNX Runtime running the graph SharpClip writes from the same weights) gives the
/// same numbers, so pipelines, zero-shot classifiers, scoring and search take either without knowing which.
/// </summary>
public interface IClipEncoder
{
    /// <summary>The architecture whose embeddings these are.</summary>
    ClipConfig Config { get; }

    /// <summary>Image embeddings, no autograd.</summary>
    /// <param name="pixels">[images, 3, resolution, resolution], normalised as the model's preprocessing does.</param>
    /// <param name="normalize">L2-normalise each embedding.</param>
    /// <returns>[images, embed_dim] float32 on the CPU.</returns>
    Tensor EmbedImages(Tensor pixels, bool normalize = true);

    /// <summary>Text embeddings, no autograd.</summary>
    /// <param name="ids">[texts, context] token ids, the end-of-text id the largest in each row.</param>
    /// <param name="normalize">L2-normalise each embedding.</param>
    /// <param name="trimPadding">Cut the columns after the batch's last end token first (<see cref="TextPadding.Trim"/>; exact).</param>
    /// <returns>[texts, embed_dim] float32 on the CPU.</returns>
    Tensor EmbedTexts(Tensor ids, bool normalize = true, bool trimPadding = true);
}
