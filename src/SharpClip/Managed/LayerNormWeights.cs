using SharpClip.Modeling;

namespace SharpClip.Managed;

/// <summary>A LayerNorm module's γ and β (<c>{key}.weight</c>, <c>{key}.bias</c>) in native memory.</summary>
internal sealed unsafe class LayerNormWeights : IDisposable
{
    readonly AlignedBuffer _gamma, _beta;

    public LayerNormWeights(TowerWeights w, string key)
    {
        var gamma = TensorCopy.Floats(w[$"{key}.weight"]);
        var beta = TensorCopy.Floats(w[$"{key}.bias"]);
        Width = gamma.Length;
        _gamma = TensorCopy.ToNative(gamma);
        _beta = TensorCopy.ToNative(beta);
    }

    public int Width { get; }

    /// <summary>PyTorch's default epsilon, which every CLIP LayerNorm uses.</summary>
    public const float Epsilon = 1e-5f;

    // x, y: [rows, width] (y may be x)
    public void Apply(float* x, int ldx, float* y, int ldy, int rows, int threads) =>
        RowOps.LayerNorm(x, ldx, y, ldy, rows, Width, _gamma.Data, _beta.Data, Epsilon, threads);

    public void Dispose()
    {
        _gamma.Dispose();
        _beta.Dispose();
    }
}
