using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Managed;

/// <summary>
/// A 3×3, stride-1, padding-1 convolution by Winograd's minimal filtering (Lavin &amp; Gray, 2016): each m×m block of
/// outputs comes from the (m+2)×(m+2) input patch around it as <c>Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A</c>. F(2×2, 3×3) takes 16
/// multiplications per input and output channel where the direct sum takes 36 (2.25× fewer), F(4×4, 3×3) 36 where it
/// takes 144 (4× fewer). The (m+2)² element-wise products summed over input channels are as many matrix products
/// ([tiles, in] · [in, out]) on <see cref="MatrixKernel"/>; the transforms of d and of the sums are additions and
/// multiplications by small constants.
/// </summary>
/// <remarks>
/// <para>Why: a ModifiedResNet spends over half its multiply-adds in 3×3 convolutions, and ONNX Runtime already runs
/// its direct convolutions near this CPU's peak, so matching it leaves nothing to gain from the arithmetic rate; fewer
/// multiplications is the remaining way. F(2×2)'s matrices hold 0, ±1 and ±½, F(4×4)'s up to 8 (Aᵀ) and 1/24 (G), so
/// its rounding grows more; both are tested against libtorch in float64 (1e-5 relative per convolution) and RN50's
/// features against the torch engine (7e-7 relative). F(4×4)'s weights are 4× the direct ones, so the tower asks for
/// it only where the maps are large and the channels few (see <see cref="FoldedConvolution"/>).</para>
/// <para>Tiles are transformed and multiplied a chunk at a time so the transformed inputs and products stay in L2
/// (measured on RN50's last stage at batch 8: chunks of up to 196 tiles, 13 MiB of inputs and products per thread,
/// ran 360 GFLOP/s-equivalent; chunks within 1 MiB, 750).</para>
/// </remarks>
internal sealed unsafe class WinogradConvolution : IDisposable
{
    /// <summary>Floats of transformed inputs and products per chunk and thread (1 MiB: in L2 with a weight panel).</summary>
    const int ChunkFloats = 1 << 18;

    /// <summary>Tiles up to which the threads share the products' columns instead of taking tiles each, when the weights
    /// are large (<see cref="SharedColumnsMinWeights"/>): each thread taking its own tiles streams all the transformed
    /// weights (<c>bench … convolutions</c>: 14×14 at batch 1, 49 tiles, 512 channels 1.64–1.79 ms shared against
    /// 1.93–2.15 each taking its own; 7×7 at batch 8, 128 tiles, 3.4–3.8 against 3.9–4.4; 14×14 at batch 8, 392 tiles:
    /// shared lost at 256 channels, 2.9–3.3 against 2.6–2.9).</summary>
    const int SharedColumnsMaxTiles = 128;

    /// <summary>Input × output channels from which few tiles share the columns. Below, tiles claimed by the threads run
    /// faster: 14×14 at batch 1, 49 tiles, 256 channels 0.50–0.51 ms against 0.57–0.64 shared (five runs; before the
    /// threads claimed their tiles, shared had won there, 0.32–0.46 against 0.44–0.49).</summary>
    const long SharedColumnsMinWeights = 512 * 512;

    readonly PackedMatrix[] _transformed;                                      // ξ = αi + j: [in, out] of (G g Gᵀ)[i, j]
    readonly AlignedBuffer _bias;
    readonly AlignedBuffer _zeros;                                              // the padding's pixel: InChannels zeros

    /// <summary>True when the engine's vectors fit the channel counts (whole 16-float vectors on both sides).</summary>
    public static bool Fits(int inChannels, int outChannels) => inChannels % 16 == 0 && outChannels % 16 == 0;

    /// <param name="weight">[out, in, 3, 3], BatchNorm scale already applied (float64).</param>
    /// <param name="bias">[out] (float64).</param>
    /// <param name="outputTile">2 for F(2×2, 3×3), 4 for F(4×4, 3×3).</param>
    public WinogradConvolution(Tensor weight, Tensor bias, int outputTile = 2)
    {
        using var scope = torch.NewDisposeScope();
        InChannels = (int)weight.shape[1];
        OutChannels = (int)weight.shape[0];
        if (!Fits(InChannels, OutChannels) || weight.shape[2] != 3 || weight.shape[3] != 3)
            throw new ArgumentException($"Winograd convolutions here take 3x3 kernels and channels in multiples of 16, not [{string.Join(", ", weight.shape)}]");
        if (outputTile is not (2 or 4)) throw new ArgumentOutOfRangeException(nameof(outputTile), outputTile, "F(2×2, 3×3) or F(4×4, 3×3)");
        OutputTile = outputTile;
        _transformed = new PackedMatrix[Planes];
        // G: F(2×2) interpolates at 0, ±1, ∞; F(4×4) at 0, ±1, ±2, ∞ (Lavin & Gray's matrices).
        var g = outputTile == 2
            ? torch.tensor(new double[] { 1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1 }, ScalarType.Float64).reshape(4, 3)
            : torch.tensor(new double[] { 0.25, 0, 0, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6,
                                          1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 24, -1.0 / 12, 1.0 / 6, 0, 0, 1 }, ScalarType.Float64).reshape(6, 3);
        var u = torch.einsum("ij,ocjk,lk->ocil", g, weight, g);                  // [out, in, α, α]
        try
        {
            for (int i = 0; i < Alpha; i++)
                for (int j = 0; j < Alpha; j++)
                    _transformed[Alpha * i + j] = PackedMatrix.FromLinear(u[.., .., i, j].to(ScalarType.Float32), null);
        }
        catch
        {
            Dispose();
            throw;
        }
        _bias = TensorCopy.ToNative(TensorCopy.Floats(bias.to(ScalarType.Float32)));
        _zeros = AlignedBuffer.Zeroed(InChannels);
    }

    public int InChannels { get; }
    public int OutChannels { get; }

    /// <summary>Output pixels per tile side: 2 (F(2×2, 3×3)) or 4 (F(4×4, 3×3)).</summary>
    public int OutputTile { get; }

    /// <summary>Input patch side: the tile plus the kernel's reach.</summary>
    int Alpha => OutputTile + 2;

    /// <summary>Element-wise products per tile, one matrix product each.</summary>
    int Planes => Alpha * Alpha;

    /// <summary>Output panels of the products, a narrow last one counted.</summary>
    int Panels => (OutChannels + MatrixKernel.PanelWidth - 1) / MatrixKernel.PanelWidth;

    /// <summary>Tiles that cover a map of this side.</summary>
    int TilesAcross(int side) => (side + OutputTile - 1) / OutputTile;

    /// <summary><c>output = act(conv(input) + bias)</c>; output has the input's height and width.</summary>
    /// <remarks>With <paramref name="sharedColumns"/> true the threads split the products' columns over all tiles, with
    /// false each takes its own tiles, with null the shape decides (<see cref="SharedColumnsMaxTiles"/>,
    /// <see cref="SharedColumnsMinWeights"/>).</remarks>
    public void Apply(in FeatureMap input, in FeatureMap output, OutputActivation activation, int threads, bool? sharedColumns = null)
    {
        int tilesY = TilesAcross(input.Height), tilesX = TilesAcross(input.Width), tiles = input.Images * tilesY * tilesX;
        int ldIn = FeatureMap.Stride(InChannels), ldOut = FeatureMap.Stride(OutChannels), planes = Planes;
        int chunk = ChunkFloats / (planes * (ldIn + ldOut));
        chunk = Math.Max(12, chunk / 12 * 12);
        int team = Math.Max(threads, 1);
        chunk = Math.Min(chunk, (tiles + team - 1) / team);                       // at least a chunk per thread
        var from = input;
        var to = output;
        if (threads > 1 && Panels >= threads
            && (sharedColumns ?? (tiles <= SharedColumnsMaxTiles && (long)InChannels * OutChannels >= SharedColumnsMinWeights)))
        {
            ApplySharedColumns(from, to, tilesY, tilesX, tiles, ldIn, ldOut, activation, threads);
            return;
        }
        // Threads claim whole chunks of tiles (WorkerTeam.Share), so the chunks, and the sums, are the same whoever runs them.
        WorkerTeam.Share(tiles, threads, chunk, (first, end) =>
        {
            using var work = AlignedBuffer.Scratch((long)planes * chunk * (ldIn + ldOut));
            float* v = work.Data, m = v + (long)planes * chunk * ldIn;
            for (int t = first; t < end; t += chunk)
            {
                int count = Math.Min(chunk, end - t);
                TransformInputs(from, tilesY, tilesX, t, count, v, chunk, ldIn);
                for (int xi = 0; xi < planes; xi++)
                    MatrixKernel.Multiply(v + (long)xi * chunk * ldIn, count, ldIn, _transformed[xi], m + (long)xi * chunk * ldOut, ldOut,
                        0, OutChannels, false, OutputActivation.None, threads: 1);
                TransformOutputs(m, chunk, ldOut, to, tilesY, tilesX, t, count, activation);
            }
        });
    }

    /// <summary>
    /// All tiles as one chunk with the threads splitting the products' columns (a late stage at batch 1: 49 tiles of
    /// a 14×14 map, too few to give each thread its own, and each thread would stream all the weight matrices): the
    /// threads transform their share of the tiles, then each runs its panels of all the products, then transforms its
    /// share of the sums — three hand-overs instead of one per product.
    /// </summary>
    void ApplySharedColumns(FeatureMap input, FeatureMap output, int tilesY, int tilesX, int tiles, int ldIn, int ldOut,
        OutputActivation activation, int threads)
    {
        int planes = Planes;
        using var work = AlignedBuffer.Scratch((long)planes * tiles * (ldIn + ldOut));
        nint vs = (nint)work.Data, ms = (nint)(work.Data + (long)planes * tiles * ldIn);
        int panels = Panels;
        // v and m: [planes, tiles, ld]; a range of tiles starts at row `first` of each plane
        WorkerTeam.Share(tiles, threads, 1, (first, end) =>
            TransformInputs(input, tilesY, tilesX, first, end - first, (float*)vs + (long)first * ldIn, tiles, ldIn));
        WorkerTeam.Share(panels, threads, 1, (first, end) =>
        {
            // the last range ends at the output's width (a narrow last panel is the kernel's to handle)
            int from = first * MatrixKernel.PanelWidth, to = Math.Min(OutChannels, end * MatrixKernel.PanelWidth);
            for (int xi = 0; xi < planes; xi++)
                MatrixKernel.Multiply((float*)vs + (long)xi * tiles * ldIn, tiles, ldIn, _transformed[xi], (float*)ms + (long)xi * tiles * ldOut + from,
                    ldOut, from, to, false, OutputActivation.None, threads: 1);
        });
        WorkerTeam.Share(tiles, threads, 1, (first, end) =>
            TransformOutputs((float*)ms + (long)first * ldOut, tiles, ldOut, output, tilesY, tilesX, first, end - first, activation));
    }

    /// <summary>Bᵀ d B for tiles [first, +count), 16 channels at a time: v[ξ][tile][channel].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void TransformInputs(in FeatureMap input, int tilesY, int tilesX, int first, int count, float* v, int chunk, int ld)
    {
        int perImage = tilesY * tilesX, side = Alpha;
        long plane = (long)chunk * ld;
        nint* patch = stackalloc nint[36];                                      // the patch's pixel rows, row by row
        var columns = stackalloc Vector512<float>[36];                           // F(4×4)'s Bᵀ d
        float* zeros = _zeros.Data;
        for (int n = 0; n < count; n++)
        {
            int tile = first + n, image = tile / perImage, ty = tile % perImage / tilesX, tx = tile % tilesX;
            Patch(input, image, OutputTile * ty - 1, OutputTile * tx - 1, side, zeros, patch);
            float* dst = v + (long)n * ld;
            for (int ch = 0; ch < InChannels; ch += 16)
                if (OutputTile == 2) InputTile2(new Span<nint>(patch, 16), ch, dst + ch, plane);
                else InputTile4(patch, ch, dst + ch, plane, columns);
        }
    }

    /// <summary>Aᵀ m A plus the bias through the activation, written to the tile's outputs that lie inside the map.</summary>
    void TransformOutputs(float* m, int chunk, int ld, in FeatureMap output, int tilesY, int tilesX, int first, int count, OutputActivation activation)
    {
        if (activation is not (OutputActivation.None or OutputActivation.Relu))
            throw new NotSupportedException($"activation {activation} after a Winograd convolution");
        if (OutputTile == 2) TransformOutputs2(m, chunk, ld, output, tilesY, tilesX, first, count, activation);
        else TransformOutputs4(m, chunk, ld, output, tilesY, tilesX, first, count, activation == OutputActivation.Relu);
    }

    /// <summary>F(2×2, 3×3)'s Bᵀ d B of one 4×4 patch at 16 channels, stored as planes ξ = 0 … 15.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void InputTile2(Span<nint> rows, int channel, float* dst, long plane)
    {
        // Bᵀ d: rows 0-2, 1+2, 2-1, 1-3 of the patch (each a row of 4 pixels)
        var d = new PatchRows(rows, channel);
        Quad d0 = d.Row(0), d1 = d.Row(1), d2 = d.Row(2), d3 = d.Row(3);
        StoreColumns(d0 - d2, dst, 0, plane);
        StoreColumns(d1 + d2, dst, 4, plane);
        StoreColumns(d2 - d1, dst, 8, plane);
        StoreColumns(d1 - d3, dst, 12, plane);
    }

    /// <summary>The pixel rows of a side × side patch whose corner is (<paramref name="top"/>, <paramref name="left"/>),
    /// row by row: <paramref name="zeros"/> where it hangs over the padding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Patch(in FeatureMap input, int image, int top, int left, int side, float* zeros, nint* rows)
    {
        if (top >= 0 && left >= 0 && top + side <= input.Height && left + side <= input.Width)
        {
            // inside the map (most tiles): every pixel a step from the corner, no bounds to test
            nint pixel = (nint)input.Ld * sizeof(float), line = (nint)input.Width * pixel;
            nint corner = (nint)(input.Data + (((long)image * input.Height + top) * input.Width + left) * input.Ld);
            for (int r = 0; r < side; r++, corner += line)
            {
                nint at = corner;
                for (int c = 0; c < side; c++, at += pixel) rows[side * r + c] = at;
            }
            return;
        }
        for (int r = 0; r < side; r++)
            for (int c = 0; c < side; c++)
            {
                int y = top + r, x = left + c;
                rows[side * r + c] = (uint)y < (uint)input.Height && (uint)x < (uint)input.Width
                    ? (nint)(input.Data + (((long)image * input.Height + y) * input.Width + x) * input.Ld) : (nint)zeros;
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

    /// <summary>F(2×2, 3×3)'s Aᵀ m A plus the bias through the activation, written to the tile's 2×2 outputs that lie inside the map.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void TransformOutputs2(float* m, int chunk, int ld, in FeatureMap output, int tilesY, int tilesX, int first, int count, OutputActivation activation)
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

    /// <summary>F(4×4, 3×3)'s Bᵀ d B of one 6×6 patch at 16 channels, stored as planes ξ = 0 … 35.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void InputTile4(nint* rows, int ch, float* dst, long plane, Vector512<float>* t)
    {
        for (int c = 0; c < 6; c++)                                              // Bᵀ down each column of the patch: t[6i + c]
            InputRows(Load(rows[c], ch), Load(rows[6 + c], ch), Load(rows[12 + c], ch), Load(rows[18 + c], ch),
                Load(rows[24 + c], ch), Load(rows[30 + c], ch), t + c, 6);
        for (int i = 0; i < 6; i++)                                              // then along each row: (Bᵀ d) B, in place
        {
            Vector512<float>* row = t + 6 * i;
            InputRows(row[0], row[1], row[2], row[3], row[4], row[5], row, 1);
            for (int j = 0; j < 6; j++) row[j].Store(dst + (6 * i + j) * plane);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Load(nint row, int channel) => Vector512.Load((float*)row + channel);

    /// <summary>F(4×4, 3×3)'s Bᵀ applied to six values: rows 4·d0 − 5·d2 + d4, (d4 − 4·d2) ± (d3 − 4·d1),
    /// (d4 − d2) ± 2·(d3 − d1), 4·d1 − 5·d3 + d5; written to o[0], o[step], … .</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void InputRows(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3, Vector512<float> d4,
        Vector512<float> d5, Vector512<float>* o, int step)
    {
        var four = Vector512.Create(4f);
        var five = Vector512.Create(5f);
        var a = d4 - four * d2;
        var b = d3 - four * d1;
        var c = d4 - d2;
        var d = (d3 - d1) * Vector512.Create(2f);
        o[0] = four * d0 - five * d2 + d4;
        o[step] = a + b;
        o[2 * step] = a - b;
        o[3 * step] = c + d;
        o[4 * step] = c - d;
        o[5 * step] = four * d1 - five * d3 + d5;
    }

    /// <summary>F(4×4, 3×3)'s Aᵀ m A plus the bias (and ReLU), written to the tile's 4×4 outputs that lie inside the map.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void TransformOutputs4(float* m, int chunk, int ld, in FeatureMap output, int tilesY, int tilesX, int first, int count, bool relu)
    {
        int perImage = tilesY * tilesX;
        long plane = (long)chunk * ld;
        var s = stackalloc Vector512<float>[24];                                 // Aᵀ m: s[6i + j], i < 4
        var o = stackalloc Vector512<float>[4];
        for (int n = 0; n < count; n++)
        {
            int tile = first + n, image = tile / perImage, ty = tile % perImage / tilesX, tx = tile % tilesX;
            int y0 = 4 * ty, x0 = 4 * tx, rowsIn = Math.Min(4, output.Height - y0), columnsIn = Math.Min(4, output.Width - x0);
            float* top = output.Data + (((long)image * output.Height + y0) * output.Width + x0) * output.Ld;
            float* src = m + (long)n * ld;
            for (int ch = 0; ch < OutChannels; ch += 16)
            {
                float* p = src + ch;
                for (int j = 0; j < 6; j++)                                      // Aᵀ down each column of m
                    OutputRows(Vector512.Load(p + j * plane), Vector512.Load(p + (6 + j) * plane), Vector512.Load(p + (12 + j) * plane),
                        Vector512.Load(p + (18 + j) * plane), Vector512.Load(p + (24 + j) * plane), Vector512.Load(p + (30 + j) * plane), s + j, 6);
                var bias = Vector512.Load(_bias.Data + ch);
                for (int i = 0; i < rowsIn; i++)                                 // then along each row
                {
                    Vector512<float>* row = s + 6 * i;
                    OutputRows(row[0], row[1], row[2], row[3], row[4], row[5], o, 1);
                    float* y = top + (long)i * output.Width * output.Ld + ch;
                    for (int c = 0; c < columnsIn; c++)
                    {
                        var value = o[c] + bias;
                        (relu ? VectorMath.Relu(value) : value).Store(y + (long)c * output.Ld);
                    }
                }
            }
        }
    }

    /// <summary>F(4×4, 3×3)'s Aᵀ applied to six values: m0 + (m1 + m2) + (m3 + m4), (m1 − m2) + 2·(m3 − m4),
    /// (m1 + m2) + 4·(m3 + m4), (m1 − m2) + 8·(m3 − m4) + m5; written to o[0], o[step], … .</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void OutputRows(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, Vector512<float> m4,
        Vector512<float> m5, Vector512<float>* o, int step)
    {
        var sum12 = m1 + m2;
        var difference12 = m1 - m2;
        var sum34 = m3 + m4;
        var difference34 = m3 - m4;
        o[0] = m0 + sum12 + sum34;
        o[step] = difference12 + Vector512.Create(2f) * difference34;
        o[2 * step] = sum12 + Vector512.Create(4f) * sum34;
        o[3 * step] = difference12 + Vector512.Create(8f) * difference34 + m5;
    }

    public void Dispose()
    {
        foreach (var t in _transformed) t?.Dispose();
        _bias?.Dispose();
        _zeros?.Dispose();
    }
}
