using SharpClip.Modeling;
using System.Runtime.InteropServices;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Onnx;

/// <summary>
/// How <see cref="ModifiedResNetGraph"/> writes its convolutions and the activations between them: float32; float32
/// with every quantization point's range as an extra output (for <see cref="ActivationRanges.Measure"/>); or int8 in
/// ONNX's standard QDQ form — each activation quantized to uint8 with its calibrated range and dequantized again, each
/// kernel stored as int8 per output channel with its BatchNorm folded in — which ONNX Runtime fuses into
/// <c>QLinearConv</c> (its uint8 × int8 convolution with prepacked weights), <c>QLinearAdd</c> and
/// <c>QLinearAveragePool</c>, so the tower runs in int8 from the stem to the attention pool.
/// </summary>
/// <remarks>
/// Why static ranges rather than the linear layers' per-call ones: ONNX Runtime's dynamic route for convolutions
/// (<c>DynamicQuantizeLinear</c> + <c>ConvInteger</c>) takes uint8 kernels with one zero point per tensor and runs as
/// im2col plus a generic product; RN50 measured 1.17× / 0.95× float32 at batch 1 / 8 with it. <c>QLinearConv</c> needs
/// its output's scale up front, and that is what calibration gives.
/// </remarks>
internal sealed class ConvolutionPrecision
{
    enum Mode { Float, Observe, Int8 }

    /// <summary>A value the graph holds as the dequantized form of a uint8 tensor: its scale and zero point.</summary>
    sealed record Quantized(float Scale, byte ZeroPoint, string ScaleName, string ZeroPointName);

    readonly Mode _mode;
    readonly ActivationRanges? _ranges;
    readonly int _limit;
    readonly Dictionary<string, Quantized> _quantized = [];
    readonly List<string> _points = [];

    ConvolutionPrecision(Mode mode, ActivationRanges? ranges, int limit) { _mode = mode; _ranges = ranges; _limit = limit; }

    /// <summary>The float32 graph (ONNX Runtime folds each BatchNorm into its convolution itself).</summary>
    public static ConvolutionPrecision Float32() => new(Mode.Float, null, 0);

    /// <summary>The float32 graph with each quantization point's smallest and largest value as outputs.</summary>
    public static ConvolutionPrecision Observe() => new(Mode.Observe, null, 0);

    /// <summary>int8 convolutions with kernels within ±<paramref name="limit"/> (see <see cref="Int8Weights.Limit"/>).</summary>
    public static ConvolutionPrecision Int8(ActivationRanges ranges, int limit) => new(Mode.Int8, ranges, limit);

    /// <summary>The quantization points met so far, in graph order (their outputs, in <see cref="Observe"/> mode).</summary>
    public IReadOnlyList<string> Points => _points;

    public bool IsInt8 => _mode == Mode.Int8;

    /// <summary>
    /// Marks <paramref name="x"/>, the output of <paramref name="point"/>, as a place where the int8 graph holds a uint8
    /// tensor: int8 writes <c>QuantizeLinear</c> → <c>DequantizeLinear</c> with the point's calibrated range (a ReLU
    /// before it is absorbed: its range starts at 0, so the zero point is 0), observe writes the range outputs.
    /// </summary>
    public string At(OnnxGraphBuilder g, string point, string x)
    {
        _points.Add(point);
        switch (_mode)
        {
            case Mode.Observe:
                g.Output(g.Node("ReduceMin", [x], [OnnxGraphBuilder.Int("keepdims", 0)]), ClipOnnxGraphs.RangeOutput(point, "min"), TensorProto.Types.DataType.Float);
                g.Output(g.Node("ReduceMax", [x], [OnnxGraphBuilder.Int("keepdims", 0)]), ClipOnnxGraphs.RangeOutput(point, "max"), TensorProto.Types.DataType.Float);
                return x;
            case Mode.Int8:
                var (min, max) = _ranges![point];
                // The range must hold 0 (zero padding and ReLU's zeros are exact); asymmetric uint8 over it.
                float low = Math.Min(min, 0f), high = Math.Max(max, 0f);
                float scale = high > low ? (high - low) / 255f : 1f;
                byte zero = (byte)Math.Clamp(Math.Round(-low / scale), 0, 255);
                return QuantizeDequantize(g, point, x, scale, zero);
            default:
                return x;
        }
    }

    /// <summary>An average pool of a quantized value, quantized again with its input's scale (an average stays within
    /// its input's range), the pattern ONNX Runtime runs as <c>QLinearAveragePool</c>.</summary>
    public string Pooled(OnnxGraphBuilder g, string input, string pooled) =>
        _mode == Mode.Int8 && _quantized.TryGetValue(input, out var q) ? QuantizeDequantize(g, pooled, pooled, q.Scale, q.ZeroPoint) : pooled;

    string QuantizeDequantize(OnnxGraphBuilder g, string name, string x, float scale, byte zero)
    {
        var scaleName = g.Floats(name + ".scale", [scale]);
        var zeroName = g.Constant(name + ".zero_point", TensorProto.Types.DataType.Uint8, [zero]);
        var q = g.Node("QuantizeLinear", x, scaleName, zeroName);                      // uint8
        var dq = g.Node("DequantizeLinear", q, scaleName, zeroName);                   // float32 again
        _quantized[dq] = new Quantized(scale, zero, scaleName, zeroName);
        return dq;
    }

    /// <summary>
    /// A bias-free convolution followed by eval-mode BatchNorm, in int8 when its input is a quantized value: the BatchNorm
    /// folded into the kernel (<c>w·γ/σ</c>) and a bias (<c>β − μγ/σ</c>), the kernel int8 per output channel and the bias
    /// int32 at the input scale × kernel scale, as <c>QLinearConv</c> adds it. Null when the input is float32 (the stem's
    /// first convolution, which sees the pixels): the caller writes the float32 form.
    /// </summary>
    public string? TryConvolution(OnnxGraphBuilder g, string name, string x, Tensor weight, Tensor gamma, Tensor beta, Tensor mean,
        Tensor variance, AttributeProto[] attributes)
    {
        if (_mode != Mode.Int8 || !_quantized.TryGetValue(x, out var input)) return null;
        int[] bias;
        float[] biasScales;
        Int8Weights kernel;
        using (var scope = torch.NewDisposeScope())
        {
            using Scalar eps = 1e-5f, inputScale = input.Scale, low = int.MinValue / 2, high = int.MaxValue / 2;   // held for the ops
            var factor = gamma.detach().to(ScalarType.Float32, CPU) / variance.detach().to(ScalarType.Float32, CPU).add(eps, KeptScalars.One).sqrt(); // [out]
            var folded = weight.detach().to(ScalarType.Float32, CPU) * factor.view(-1, 1, 1, 1);                       // [out, in, k, k]
            var shift = beta.detach().to(ScalarType.Float32, CPU) - mean.detach().to(ScalarType.Float32, CPU) * factor; // [out]
            kernel = Int8Weights.PerOutputChannel(folded, _limit);
            var scales = torch.tensor(kernel.Scales).mul(inputScale);                                                    // [out]
            biasScales = scales.data<float>().ToArray();
            bias = (shift / scales).round().clamp(low, high).to(ScalarType.Int32).data<int>().ToArray();
        }
        long channels = kernel.Shape[0];
        var zeros = new byte[channels];
        var axis = new[] { OnnxGraphBuilder.Int("axis", 0) };
        var w = g.Node("DequantizeLinear", [
            g.Constant(name + ".weight.int8", TensorProto.Types.DataType.Int8, MemoryMarshal.AsBytes(kernel.Values.AsSpan()), kernel.Shape),
            g.Floats(name + ".weight.scale", kernel.Scales, channels),
            g.Constant(name + ".weight.zero_point", TensorProto.Types.DataType.Int8, zeros, channels)], axis);
        var b = g.Node("DequantizeLinear", [
            g.Constant(name + ".bias.int32", TensorProto.Types.DataType.Int32, MemoryMarshal.AsBytes(bias.AsSpan()), channels),
            g.Floats(name + ".bias.scale", biasScales, channels),
            g.Constant(name + ".bias.zero_point", TensorProto.Types.DataType.Int32, new byte[channels * 4], channels)], axis);
        return g.Node("Conv", [x, w, b], attributes);
    }
}
