using System.Runtime.CompilerServices;
using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Managed;

/// <summary>
/// A bias-free convolution followed by an eval-mode BatchNorm, as one convolution with a bias: the BatchNorm's
/// <c>γ/√(var + ε)</c> scales each output channel's weights and <c>β − mean·γ/√(var + ε)</c> is the bias, so the
/// product's epilogue does the whole normalisation. Runs on <see cref="FeatureMap"/>s: a 1×1 convolution is one
/// <see cref="MatrixKernel"/> product over the pixel rows; a k×k one first gathers each output pixel's k·k input rows
/// into one row (im2col, chunk by chunk so the gathered rows stay in cache) and multiplies those.
/// </summary>
internal sealed unsafe class FoldedConvolution : IDisposable
{
    /// <summary>PyTorch's BatchNorm2d default, which every CLIP ResNet uses.</summary>
    public const double Epsilon = 1e-5;

    /// <summary>Gathered floats up to which a convolution gathers every output pixel at once and splits the product's
    /// columns across threads (the small late stages, whose weights are large); above it, or when there are fewer
    /// 32-column panels than threads (the stem's 32 channels), each thread takes its own range of pixels, chunk by chunk.</summary>
    const long WholeGather = 1 << 21;

    /// <summary>Gathered floats per chunk and thread: 512 KiB, within L2 beside a weight panel block.</summary>
    const int ChunkFloats = 1 << 17;

    /// <summary>Output tiles (2×2 pixels each) from which a 3×3 convolution runs as Winograd's F(2×2, 3×3): RN50's
    /// smallest map at batch 1 (7×7, 16 tiles, 512 channels, the weights read from memory) measured 0.70–0.72 ms against
    /// the direct path's 0.84 with the threads sharing the products' columns (<c>bench … convolutions</c>); below 16
    /// nothing was measured.</summary>
    const int WinogradMinTiles = 16;

    /// <summary>Input × output channels up to which a convolution whose map suits F(4×4, 3×3) gets it too: its 36
    /// transformed weight matrices are 4× the direct weights, and above 256 × 256 (RN50's late stages) the weights, not
    /// the arithmetic, are the cost.</summary>
    const long Winograd4MaxWeights = 256 * 256;

    /// <summary>F(4×4) tiles from which F(4×4, 3×3) runs instead of F(2×2, 3×3). Measured (<c>bench … convolutions</c>,
    /// weights from memory): 112×112 to 28×28 maps at batch 8 took 18–25 % less time with F(4×4) (e.g. 128 channels at
    /// 56×56 7.5 ms against 10.0); at batch 1, 49 tiles of a 28×28 map with 128 channels 0.49 ms against F(2×2)'s 0.38,
    /// with 256 channels 1.25 against 1.41 — below 64 tiles F(2×2) stays.</summary>
    const int Winograd4MinTiles = 64;

    readonly PackedMatrix _matrix;
    readonly WinogradConvolution? _winograd, _winograd4;

    /// <param name="w">The tower's weights.</param>
    /// <param name="convolution">The Conv2d's key (its <c>.weight</c>: [out, in, k, k]).</param>
    /// <param name="norm">The BatchNorm2d's key (<c>.weight</c>, <c>.bias</c>, <c>.running_mean</c>, <c>.running_var</c>).</param>
    /// <param name="stride">The convolution's stride.</param>
    /// <param name="padding">Zero padding on each side.</param>
    /// <param name="winograd4">Also build F(4×4, 3×3) (when the channels allow it, see <see cref="Winograd4MaxWeights"/>):
    /// for maps whose side is a multiple of 4, where its 4×4 tiles cover the map exactly (on 14×14 they would compute
    /// 16×16, and there F(2×2) measured faster). The caller knows its maps; only such maps run it unless forced.</param>
    public FoldedConvolution(TowerWeights w, string convolution, string norm, int stride = 1, int padding = 0, bool winograd4 = false)
    {
        using var scope = torch.NewDisposeScope();
        var weight = w[$"{convolution}.weight"].detach().to(ScalarType.Float64, CPU);   // [out, in, k, k]
        if (weight.dim() != 4 || weight.shape[2] != weight.shape[3])
            throw new NotSupportedException($"{convolution}: the managed engine runs square 2-D convolutions, not [{string.Join(", ", weight.shape)}]");
        var gamma = w[$"{norm}.weight"].detach().to(ScalarType.Float64, CPU);
        var beta = w[$"{norm}.bias"].detach().to(ScalarType.Float64, CPU);
        var mean = w[$"{norm}.running_mean"].detach().to(ScalarType.Float64, CPU);
        var variance = w[$"{norm}.running_var"].detach().to(ScalarType.Float64, CPU);
        using Scalar epsilon = Epsilon;                                         // held for the op (see KeptScalars)
        var scale = gamma / variance.add(epsilon, KeptScalars.One).sqrt();       // [out]
        OutChannels = (int)weight.shape[0];
        InChannels = (int)weight.shape[1];
        Kernel = (int)weight.shape[2];
        Stride = stride;
        Padding = padding;
        var folded = weight * scale.reshape(-1, 1, 1, 1);                       // [out, in, k, k], the norm's scale in
        // Rows of the gathered input are (dy, dx, channel): the weight's [out, in, dy, dx] permuted to match.
        var rows = folded.permute(0, 2, 3, 1).reshape(OutChannels, -1);
        var bias = beta - mean * scale;
        _matrix = PackedMatrix.FromLinear(rows.to(ScalarType.Float32), bias.to(ScalarType.Float32));
        if (Kernel == 3 && stride == 1 && padding == 1 && WinogradConvolution.Fits(InChannels, OutChannels))
        {
            try
            {
                _winograd = new WinogradConvolution(folded, bias);
                if (winograd4 && (long)InChannels * OutChannels <= Winograd4MaxWeights)
                    _winograd4 = new WinogradConvolution(folded, bias, outputTile: 4);
            }
            catch
            {
                _matrix.Dispose();
                _winograd?.Dispose();
                throw;
            }
        }
    }

    /// <summary>True when the convolution has a Winograd form (3×3, stride 1, padding 1, channels in 16s).</summary>
    public bool HasWinograd => _winograd is not null;

    /// <summary>True when the convolution also has an F(4×4, 3×3) form.</summary>
    public bool HasWinograd4 => _winograd4 is not null;

    public int InChannels { get; }
    public int OutChannels { get; }
    public int Kernel { get; }
    public int Stride { get; }
    public int Padding { get; }

    /// <summary>The output's side for an input side (PyTorch's floor rule).</summary>
    public int OutputSide(int side) => (side + 2 * Padding - Kernel) / Stride + 1;

    bool Pointwise => Kernel == 1 && Stride == 1 && Padding == 0;

    /// <summary>
    /// <c>output = act(conv(input) + bias)</c>, or <c>act(output + conv(input) + bias)</c> when
    /// <paramref name="accumulate"/> (the residual sum). <paramref name="output"/> must have the shape
    /// <see cref="OutputSide"/> gives.
    /// </summary>
    public void Apply(in FeatureMap input, in FeatureMap output, bool accumulate, OutputActivation activation, int threads)
        => Apply(input, output, accumulate, activation, threads, ConvolutionPath.Auto);

    /// <summary>The same on a chosen path (the bench compares them; <see cref="ConvolutionPath.Auto"/> is what the
    /// engine runs).</summary>
    internal void Apply(in FeatureMap input, in FeatureMap output, bool accumulate, OutputActivation activation, int threads, ConvolutionPath path)
    {
        if (input.Channels != InChannels || output.Channels != OutChannels || output.Images != input.Images
            || output.Height != OutputSide(input.Height) || output.Width != OutputSide(input.Width))
            throw new ArgumentException($"convolution {InChannels}→{OutChannels} ({Kernel}×{Kernel}, stride {Stride}): input " +
                $"[{input.Images}, {input.Height}, {input.Width}, {input.Channels}] does not give output [{output.Images}, {output.Height}, {output.Width}, {output.Channels}]");
        if (Pointwise)
        {
            MatrixKernel.Multiply(input.Data, input.Rows, input.Ld, _matrix, output.Data, output.Ld, 0, OutChannels, accumulate, activation, threads);
            return;
        }
        bool winogradFits = _winograd is not null && !accumulate && activation is (OutputActivation.None or OutputActivation.Relu);
        if (path == ConvolutionPath.Auto) path = winogradFits ? ChooseWinograd(input) : ConvolutionPath.Direct;
        if (path == ConvolutionPath.Winograd4)
        {
            if (!winogradFits || _winograd4 is null) throw new NotSupportedException($"convolution {InChannels}→{OutChannels} ({Kernel}×{Kernel}, stride {Stride}) has no F(4×4, 3×3) form here");
            _winograd4.Apply(input, output, activation, threads);
            return;
        }
        if (path != ConvolutionPath.Direct)
        {
            if (!winogradFits) throw new NotSupportedException($"convolution {InChannels}→{OutChannels} ({Kernel}×{Kernel}, stride {Stride}) has no Winograd form here");
            bool? sharedColumns = path switch { ConvolutionPath.WinogradSharedColumns => true, ConvolutionPath.WinogradOwnTiles => false, _ => null };
            _winograd!.Apply(input, output, activation, threads, sharedColumns);
            return;
        }
        int depth = Kernel * Kernel * InChannels, ldc = FeatureMap.Stride(depth), rows = output.Rows;
        var from = input;
        var to = output;
        int panels = (OutChannels + MatrixKernel.PanelWidth - 1) / MatrixKernel.PanelWidth;
        if ((long)rows * ldc <= WholeGather && panels >= threads)
        {
            using var gathered = AlignedBuffer.Scratch((long)rows * ldc);
            float* g = gathered.Data;
            nint gs = (nint)g;
            RowOps.ForRows(rows, threads, (first, end) => Gather(from, to, first, end - first, (float*)gs + (long)first * ldc, ldc));
            MatrixKernel.Multiply(g, rows, ldc, _matrix, output.Data, output.Ld, 0, OutChannels, accumulate, activation, threads);
            return;
        }
        int chunk = WorkerTeam.EvenChunk(rows, Math.Max(12, ChunkFloats / ldc / 12 * 12), threads, 12);
        // Threads claim whole chunks of pixels, so every pixel's sums are the same whoever runs them.
        WorkerTeam.Share(rows, threads, chunk, (first, end) =>
        {
            using var gathered = AlignedBuffer.Scratch((long)chunk * ldc);
            for (int r = first; r < end; r += chunk)
            {
                int count = Math.Min(chunk, end - r);
                Gather(from, to, r, count, gathered.Data, ldc);
                MatrixKernel.Multiply(gathered.Data, count, ldc, _matrix, to.Data + (long)r * to.Ld, to.Ld, 0, OutChannels, accumulate, activation, threads: 1);
            }
        });
    }

    /// <summary>F(4×4) on a map its tiles cover with enough of them, else F(2×2) with enough tiles, else gathered rows.</summary>
    ConvolutionPath ChooseWinograd(in FeatureMap input)
    {
        if (_winograd4 is not null && input.Height % 4 == 0 && input.Width % 4 == 0
            && (long)input.Images * (input.Height / 4) * (input.Width / 4) >= Winograd4MinTiles)
            return ConvolutionPath.Winograd4;
        return (long)input.Images * ((input.Height + 1) / 2) * ((input.Width + 1) / 2) >= WinogradMinTiles
            ? ConvolutionPath.Winograd : ConvolutionPath.Direct;
    }

    /// <summary>Output pixels [<paramref name="first"/>, +<paramref name="count"/>) as rows of their k·k input pixels'
    /// channels, (dy, dx) in order, zeros where the window hangs over the padding.</summary>
    // rows: [count, k·k·in] with row stride ldr
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Gather(in FeatureMap input, in FeatureMap output, int first, int count, float* rows, int ldr)
    {
        int k = Kernel, c = InChannels, pixels = output.Height * output.Width;
        int image = first / pixels, oy = first % pixels / output.Width, ox = first % output.Width;  // advanced, not divided, per row
        for (int r = 0; r < count; r++)
        {
            float* row = rows + (long)r * ldr;
            for (int dy = 0; dy < k; dy++)
            {
                int iy = oy * Stride + dy - Padding;
                for (int dx = 0; dx < k; dx++, row += c)
                {
                    int ix = ox * Stride + dx - Padding;
                    if ((uint)iy < (uint)input.Height && (uint)ix < (uint)input.Width)
                    {
                        float* pixel = input.Data + (((long)image * input.Height + iy) * input.Width + ix) * input.Ld;
                        if (c < 16) for (int i = 0; i < c; i++) row[i] = pixel[i];    // the image's 3 channels: no call per pixel
                        else RowOps.Copy(pixel, row, c);
                    }
                    else if (c < 16) for (int i = 0; i < c; i++) row[i] = 0;
                    else new Span<float>(row, c).Clear();
                }
            }
            if (++ox == output.Width)
            {
                ox = 0;
                if (++oy == output.Height) { oy = 0; image++; }
            }
        }
    }

    public void Dispose()
    {
        _matrix.Dispose();
        _winograd?.Dispose();
        _winograd4?.Dispose();
    }
}
