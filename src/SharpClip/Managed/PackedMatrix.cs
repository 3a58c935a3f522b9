using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Managed;

/// <summary>
/// The right-hand side of <c>y = x·W + b</c>, W [inner, outer], copied once into the order <see cref="MatrixKernel"/>
/// reads it: blocks of <see cref="BlockDepth"/> inner rows, each cut into panels of
/// <see cref="MatrixKernel.PanelWidth"/> output columns stored row after row, so the kernel's inner loop reads one
/// contiguous stream. Output columns are padded with zeros to a whole panel; the bias (zero when the layer has none)
/// is padded the same way.
/// </summary>
internal sealed unsafe class PackedMatrix : IDisposable
{
    readonly AlignedBuffer _panels, _bias;

    PackedMatrix(float[] rowMajor, int inner, int outer, float[]? bias)
    {
        Inner = inner;
        Outer = outer;
        PaddedOuter = (outer + MatrixKernel.PanelWidth - 1) / MatrixKernel.PanelWidth * MatrixKernel.PanelWidth;
        HasBias = bias is not null;
        int blocks = (inner + MatrixKernel.MaxDepthBlock - 1) / MatrixKernel.MaxDepthBlock;
        BlockDepth = Math.Max(1, (inner + blocks - 1) / Math.Max(blocks, 1));
        _panels = AlignedBuffer.Zeroed((long)inner * PaddedOuter);
        _bias = AlignedBuffer.Zeroed(PaddedOuter);
        float* panels = _panels.Data;
        for (int k0 = 0; k0 < inner; k0 += BlockDepth)
        {
            int depth = Math.Min(BlockDepth, inner - k0);
            for (int j0 = 0; j0 < outer; j0 += MatrixKernel.PanelWidth)
            {
                int columns = Math.Min(MatrixKernel.PanelWidth, outer - j0);
                float* panel = Panel(k0, j0);
                for (int k = 0; k < depth; k++)
                    rowMajor.AsSpan((k0 + k) * outer + j0, columns).CopyTo(new Span<float>(panel + k * MatrixKernel.PanelWidth, columns));
            }
        }
        bias?.CopyTo(new Span<float>(_bias.Data, outer));
    }

    /// <summary>nn.Linear's layer: <paramref name="weight"/> [out, in] (PyTorch's layout), <paramref name="bias"/> [out] or null.</summary>
    public static PackedMatrix FromLinear(Tensor weight, Tensor? bias)
    {
        using var scope = torch.NewDisposeScope();
        return new PackedMatrix(Floats(weight.detach().t()), (int)weight.shape[1], (int)weight.shape[0], bias is null ? null : Floats(bias));
    }

    /// <summary>A projection stored as [in, out] (CLIP's <c>proj</c>, <c>text_projection</c>), no bias.</summary>
    public static PackedMatrix FromProjection(Tensor weight)
    {
        using var scope = torch.NewDisposeScope();
        return new PackedMatrix(Floats(weight.detach()), (int)weight.shape[0], (int)weight.shape[1], null);
    }

    /// <summary>Output features <paramref name="start"/> … start+count of nn.Linear's [out, in] weight and its bias as a
    /// layer of their own (the query part, or the key and value parts, of attention's packed in-projection).</summary>
    public static PackedMatrix FromLinearRows(Tensor weight, Tensor? bias, long start, long count)
    {
        using var scope = torch.NewDisposeScope();
        return FromLinear(weight.narrow(0, start, count), bias?.narrow(0, start, count));
    }

    static float[] Floats(Tensor t) => TensorCopy.Floats(t);

    public int Inner { get; }
    public int Outer { get; }
    public int PaddedOuter { get; }
    public bool HasBias { get; }

    /// <summary>Inner rows per block: the inner dimension cut into equal blocks of at most
    /// <see cref="MatrixKernel.MaxDepthBlock"/> (768 → 2 × 384, 512 → 2 × 256, 2048 → 6 × 342…).</summary>
    public int BlockDepth { get; }

    /// <summary>The padded bias, <see cref="PaddedOuter"/> values.</summary>
    public float* Bias => _bias.Data;

    /// <summary>The panel holding inner rows from <paramref name="k0"/> (a block start) and output columns from
    /// <paramref name="j0"/> (a panel start).</summary>
    public float* Panel(int k0, int j0)
    {
        int depth = Math.Min(BlockDepth, Inner - k0);
        return _panels.Data + (long)k0 * PaddedOuter + (long)j0 * depth;
    }

    public void Dispose()
    {
        _panels.Dispose();
        _bias.Dispose();
    }
}
