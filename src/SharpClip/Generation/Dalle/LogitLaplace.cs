using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Dalle;

/// <summary>
/// The logit-Laplace pixel mapping of the DALL-E paper (openai/DALL-E <c>map_pixels</c> / <c>unmap_pixels</c>): the dVAE
/// works on pixels squeezed from [0, 1] into [ε, 1 − ε], because its reconstruction distribution lives on the open
/// interval (0, 1) and would put infinite density at exact 0 and 1. The decoder's means come back through
/// <see cref="Unmap"/>, which undoes the squeeze and clamps to [0, 1].
/// </summary>
public static class LogitLaplace
{
    /// <summary>ε = 0.1, the package's <c>logit_laplace_eps</c>.</summary>
    public const double Eps = 0.1;

    // Computed as the package computes them in Python (double), then handed to libtorch the same way: as scalars
    // that the float32 kernels round once. Kept for the process (shared/notes/torchsharp.md §11).
    static readonly Scalar Scale = 1 - 2 * Eps;
    static readonly Scalar Offset = Eps;
    static readonly Scalar Zero = 0.0;
    static readonly Scalar One = 1.0;

    /// <summary><c>(1 − 2ε)·x + ε</c>: image [batch, 3, h, w] in [0, 1] → the encoder's input.</summary>
    public static Tensor Map(Tensor x)
    {
        RequireFloat4d(x, nameof(Map));
        using var scaled = x.mul(Scale);
        return scaled.add(Offset, One);   // alpha held too: add(Scalar) would make a temporary one
    }

    /// <summary><c>clamp((x − ε) / (1 − 2ε), 0, 1)</c>: the decoder's sigmoid means → image in [0, 1].</summary>
    public static Tensor Unmap(Tensor x)
    {
        RequireFloat4d(x, nameof(Unmap));
        using var shifted = x.sub(Offset);
        using var scaled = shifted.div(Scale);
        return scaled.clamp(Zero, One);
    }

    static void RequireFloat4d(Tensor x, string what)
    {
        if (x.dim() != 4) throw new ArgumentException($"{what} expects a 4-d [batch, channels, h, w] tensor, got [{string.Join(",", x.shape)}]");
        if (x.dtype != ScalarType.Float32) throw new ArgumentException($"{what} expects float32, got {x.dtype}");
    }
}
