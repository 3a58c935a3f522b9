using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>Operations on CLIP embeddings shared by the model, zero-shot classification and search.</summary>
public static class Embeddings
{
    /// <summary>
    /// Divides each row by its L2 norm, exactly as the reference's <c>x / x.norm(dim=1, keepdim=True)</c>
    /// (no epsilon: a zero row gives NaN there too).
    /// </summary>
    /// <param name="x">[rows, dim]</param>
    public static Tensor L2Normalize(Tensor x)
    {
        using var norm = x.norm(1, keepdim: true);
        return x / norm;
    }
}
