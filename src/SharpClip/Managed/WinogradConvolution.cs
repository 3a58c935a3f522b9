using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Managed;

/// <summary>
/// A 3×3, stride-1, padding-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin &amp; Gray, 2016): each
/// 2×2 block of outputs comes from the 4×4 input patch around it as <c>Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A</c>, so per input
/// channel and output channel it takes 16 multiplications where the direct sum takes 36 — 2.25× fewer. The 16
/// element-wise products summed over input channels are 16 matrix products ([tiles, in] · [in, out]) on
/// <see cref="MatrixKernel"/>; the transforms of d and of the sums are additions only.
/// </summary>
/// <remarks>
/// <para>Why: a ModifiedResNet spends over half its multiply-adds in 3×3 convolutions, and ONNX Runtime already runs
/// its direct convolutions near this CPU's peak, so matching it leaves nothing to gain from the arithmetic rate; fewer
/// multiplications is the remaining way. The transform matrices hold 0, ±1 and ±½ only, so the result differs from
/// the direct sum by float32 rounding of a few more additions (tested against the direct path and libtorch).</para>
/// <para>Tiles are transformed and multiplied a chunk at a time so the 16 transformed inputs and 16 products stay in
/// L2 (measured on RN50's last stage at batch 8: chunks of up to 196 tiles, 13 MiB of inputs and products per thread,
/// ran 360 GFLOP/s-equivalent; chunks within 1 MiB, 750).</para>
/// </remarks>
internal sealed unsafe class WinogradConvolution : IDisposable
{
    /// <summary>Floats of transformed inputs and products per chunk and thread (1 MiB: in L2 with a weight panel).</summary>
    const int ChunkFloats = 1 << 18;

    /// <summary>Tiles up to which the threads share the products' columns instead of taking tiles each (the weights
    /// read from memory, <c>bench … convolutions</c>: 14×14 at batch 1, 49 tiles, 256 channels 0.32–0.46 ms against
    /// 0.44–0.49 each taking its own; 512 channels 1.34–1.63 against 1.87–2.34; 7×7 at batch 8, 128 tiles, 3.4–3.8
    /// against 3.9–4.4; 14×14 at batch 8, 392 tiles: shared lost at 256 channels, 2.9–3.3 against 2.6–2.9).</summary>
    const int SharedColumnsMaxTiles = 128;

    readonly PackedMatrix[] _transformed = new PackedMatrix[16];              // ξ = 4i + j: [in, out] of (G g Gᵀ)[i, j]
    readonly AlignedBuffer _bias;

    /// <summary>True when the engine's vectors fit the channel counts (whole 16-float vectors on both sides).</summary>
    public static bool Fits(int inChannels, int outChannels) => inChannels % 16 == 0 && outChannels % 16 == 0;

    /// <param name="weight">[out, in, 3, 3], BatchNorm scale already applied (float64).</param>
    /// <param name="bias">[out] (float64).</param>
    public WinogradConvolution(Tensor weight, Tensor bias)
    {
        using var scope = torch.NewDisposeScope();
        InChannels = (int)weight.shape[1];
        OutChannels = (int)weight.shape[0];
        if (!Fits(InChannels, OutChannels) || weight.shape[2] != 3 || weight.shape[3] != 3)
            throw new ArgumentException($"Winograd F(2x2, 3x3) here takes 3x3 kernels and channels in multiples of 16, not [{string.Join(", ", weight.shape)}]");
        var g = torch.tensor(new double[] { 1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1 }, ScalarType.Float64).reshape(4, 3);
        var u = torch.einsum("ij,ocjk,lk->ocil", g, weight, g);                  // [out, in, 4, 4]
        try
        {
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    _transformed[4 * i + j] = PackedMatrix.FromLinear(u[.., .., i, j].to(ScalarType.Float32), null);
        }
        catch
        {
            Dispose();
            throw;
        }
        _bias = TensorCopy.ToNative(TensorCopy.Floats(bias.to(ScalarType.Float32)));
    }

    public int InChannels { get; }
    public int OutChannels { get; }

    /// <summary><c>output = act(conv(input) + bias)</c>; output has the input's height and width.</summary>
    /// <remarks>With <paramref name="sharedColumns"/> true the threads split the products' columns over all tiles, with
    /// false each takes its own tiles, with null the shape decides (<see cref="SharedColumnsMaxTiles"/>).</remarks>
    public void Apply(in FeatureMap input, in FeatureMap output, OutputActivation activation, int threads, bool? sharedColumns = null)
    {
        int tilesY = (input.Height + 1) / 2, tilesX = (input.Width + 1) / 2, tiles = input.Images * tilesY * tilesX;
        int ldIn = FeatureMap.Stride(InChannels), ldOut = FeatureMap.Stride(OutChannels);
        int chunk = ChunkFloats / (16 * (ldIn + ldOut));
        chunk = Math.Max(12, chunk / 12 * 12);
        int parts = Math.Max(1, Math.Min(threads, (tiles + chunk - 1) / chunk));
        chunk = Math.Min(chunk, (tiles + parts - 1) / parts);
        var from = input;
        var to = output;
        if (threads > 1 && OutChannels / MatrixKernel.PanelWidth >= threads && (sharedColumns ?? tiles <= SharedColumnsMaxTiles))
        {
            ApplySharedColumns(from, to, tilesY, tilesX, tiles, ldIn, ldOut, activation, threads);
            return;
        }
        WorkerTeam.Run(parts, part =>
        {
            int first = (int)((long)tiles * part / parts), end = (int)((long)tiles * (part + 1) / parts);
            using var work = AlignedBuffer.Scratch(16L * chunk * (ldIn + ldOut));
            float* v = work.Data, m = v + 16L * chunk * ldIn;
            for (int t = first; t < end; t += chunk)
            {
                int count = Math.Min(chunk, end - t);
                TransformInputs(from, tilesY, tilesX, t, count, v, chunk, ldIn);
                for (int xi = 0; xi < 16; xi++)
                    MatrixKernel.Multiply(v + (long)xi * chunk * ldIn, count, ldIn, _transformed[xi], m + (long)xi * chunk * ldOut, ldOut,
                        0, OutChannels, false, OutputActivation.None, threads: 1);
                TransformOutputs(m, chunk, ldOut, to, tilesY, tilesX, t, count, activation);
            }
        });
    }

    /// <summary>
    /// All tiles as one chunk with the threads splitting the 16 products' columns (a late stage at batch 1: 49 tiles of
    /// a 14×14 map, too few to give each thread its own, and each thread would stream all 16 weight matrices): the
    /// threads transform their share of the tiles, then each runs its panels of all 16 products, then transforms its
    /// share of the sums — three hand-overs instead of one per product.
    /// </summary>
    void ApplySharedColumns(FeatureMap input, FeatureMap output, int tilesY, int tilesX, int tiles, int ldIn, int ldOut,
        OutputActivation activation, int threads)
    {
        using var work = AlignedBuffer.Scratch(16L * tiles * (ldIn + ldOut));
        nint vs = (nint)work.Data, ms = (nint)(work.Data + 16L * tiles * ldIn);
        int panels = OutChannels / MatrixKernel.PanelWidth, tileParts = Math.Min(threads, tiles);
        // v and m: [16, tiles, ld]; a part's tiles start at row `first` of each of the 16 planes
        WorkerTeam.Run(tileParts, part =>
        {
            int first = tiles * part / tileParts, end = tiles * (part + 1) / tileParts;
            TransformInputs(input, tilesY, tilesX, first, end - first, (float*)vs + (long)first * ldIn, tiles, ldIn);
        });
        WorkerTeam.Run(threads, part =>
        {
            int from = panels * part / threads * MatrixKernel.PanelWidth, to = panels * (part + 1) / threads * MatrixKernel.PanelWidth;
            for (int xi = 0; xi < 16; xi++)
                MatrixKernel.Multiply((float*)vs + (long)xi * tiles * ldIn, tiles, ldIn, _transformed[xi], (float*)ms + (long)xi * tiles * ldOut + from,
                    ldOut, from, to, false, OutputActivation.None, threads: 1);
        });
        WorkerTeam.Run(tileParts, part =>
        {
            int first = tiles * part / tileParts, end = tiles * (part + 1) / tileParts;
            TransformOutputs((float*)ms + (long)first * ldOut, tiles, ldOut, output, tilesY, tilesX, first, end - first, activation);
        });
    }

    /// <summary>Bᵀ d B for tiles [first, +count), 16 channels at a time: v[ξ][tile][channel].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void TransformInputs(in FeatureMap input, int tilesY, int tilesX, int first, int count, float* v, int chunk, int ld)
    {
        int perImage = tilesY * tilesX;
        long plane = (long)chunk * ld;
        Span<nint> rows = stackalloc nint[16];
        using var zeroRow = AlignedBuffer.Zeroed(InChannels);                   // the padding's pixel
        float* zeros = zeroRow.Data;
        for (int n = 0; n < count; n++)
        {
            int tile = first + n, image = tile / perImage, ty = tile % perImage / tilesX, tx = tile % tilesX;
            // The 4×4 patch's pixel rows (a zero row where it hangs over the padding).
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 4; c++)
                {
                    int y = 2 * ty - 1 + r, x = 2 * tx - 1 + c;
                    rows[4 * r + c] = (uint)y < (uint)input.Height && (uint)x < (uint)input.Width
                        ? (nint)(input.Data + (((long)image * input.Height + y) * input.Width + x) * input.Ld) : (nint)zeros;
                }
            float* dst = v + (long)n * ld;
            for (int ch = 0; ch < InChannels; ch += 16)
            {
                // Bᵀ d: rows 0-2, 1+2, 2-1, 1-3 of the patch (each a row of 4 pixels)
                var d = new PatchRows(rows, ch);
                Quad d0 = d.Row(0), d1 = d.Row(1), d2 = d.Row(2), d3 = d.Row(3);
                var t0 = d0 - d2;
                var t1 = d1 + d2;
                var t2 = d2 - d1;
                var t3 = d1 - d3;
                StoreColumns(t0, dst + ch, 0, plane);
                StoreColumns(t1, dst + ch, 4, plane);
                StoreColumns(t2, dst + ch, 8, plane);
                StoreColumns(t3, dst + ch, 12, plane);
            }
        }
    }

    /// <summary>One row of a patch: four pixels' 16 channels.</summary>
    readonly struct Quad(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d)
    {
        public readonly Vector512<float> A = a, B = b, C = c, D = d;
        public static Quad operator +(Quad x, Quad y) => new(x.A + y.A, x.B + y.B, x.C + y.C, x.D + y.D);
        public static Quad operator -(Quad x, Quad y) => new(x.A - y.A, x.B - y.B, x.C - y.C, x.D - y.D);
    }

    /// <summary>The patch's rows at one group of 16 channels.</summary>
    readonly ref struct PatchRows(Span<nint> rows, int channel)
    {
        readonly Span<nint> _rows = rows;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Quad Row(int r) => new(
            Vector512.Load((float*)_rows[4 * r] + channel), Vector512.Load((float*)_rows[4 * r + 1] + channel),
            Vector512.Load((float*)_rows[4 * r + 2] + channel), Vector512.Load((float*)_rows[4 * r + 3] + channel));
    }

    /// <summary>(row · B): columns 0-2, 1+2, 2-1, 1-3, stored as ξ = first … first+3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreColumns(Quad q, float* dst, int first, long plane)
    {
        (q.A - q.C).Store(dst + first * plane);
        (q.B + q.C).Store(dst + (first + 1) * plane);
        (q.C - q.B).Store(dst + (first + 2) * plane);
        (q.B - q.D).Store(dst + (first + 3) * plane);
    }

    /// <summary>Aᵀ m A plus the bias through the activation, written to the tile's 2×2 outputs that lie inside the map.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void TransformOutputs(float* m, int chunk, int ld, in FeatureMap output, int tilesY, int tilesX, int first, int count, OutputActivation activation)
    {
        int perImage = tilesY * tilesX;
        long plane = (long)chunk * ld;
        bool relu = activation == OutputActivation.Relu;
        if (activation is not (OutputActivation.None or OutputActivation.Relu))
            throw new NotSupportedException($"activation {activation} after a Winograd convolution");
        for (int n = 0; n < count; n++)
        {
            int tile = first + n, image = tile / perImage, ty = tile % perImage / tilesX, tx = tile % tilesX;
            int y0 = 2 * ty, x0 = 2 * tx;
            bool down = y0 + 1 < output.Height, right = x0 + 1 < output.Width;
            float* top = output.Data + (((long)image * output.Height + y0) * output.Width + x0) * output.Ld;
            float* src = m + (long)n * ld;
            for (int ch = 0; ch < OutChannels; ch += 16)
            {
                float* s = src + ch;
                Quad Row(int i) => new(Vector512.Load(s + (4 * i) * plane), Vector512.Load(s + (4 * i + 1) * plane),
                    Vector512.Load(s + (4 * i + 2) * plane), Vector512.Load(s + (4 * i + 3) * plane));
                var r0 = Row(0);
                var r1 = Row(1);
                var r2 = Row(2);
                var r3 = Row(3);
                var s0 = r0 + r1 + r2;                                           // Aᵀ m: rows 0+1+2, 1-2-3
                var s1 = r1 - r2 - r3;
                var bias = Vector512.Load(_bias.Data + ch);
                Vector512<float> Finish(Vector512<float> value) => relu ? VectorMath.Relu(value + bias) : value + bias;
                Finish(s0.A + s0.B + s0.C).Store(top + ch);
                if (right) Finish(s0.B - s0.C - s0.D).Store(top + output.Ld + ch);
                if (down)
                {
                    float* below = top + (long)output.Width * output.Ld;
                    Finish(s1.A + s1.B + s1.C).Store(below + ch);
                    if (right) Finish(s1.B - s1.C - s1.D).Store(below + output.Ld + ch);
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (var t in _transformed) t?.Dispose();
        _bias?.Dispose();
    }
}
