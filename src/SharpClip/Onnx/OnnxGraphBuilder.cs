using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Onnx;

/// <summary>
/// Writes one ONNX graph, node by node, the way a forward method reads: each call adds an operator and returns the name
/// of its output, so graph code can be written as <c>x = g.Add(x, g.MatMul(h, w))</c>. Weights become initializers
/// copied from the live tensors (float32); constants (shapes, axes) become small int64 initializers.
/// </summary>
/// <remarks>
/// Opset 17 (ONNX 1.12): the first with <c>LayerNormalization</c>, which ONNX Runtime runs as one fused kernel; still
/// <c>ReduceMean</c> with an <c>axes</c> attribute. IR version 8 goes with it. Everything here is a standard operator,
/// so an exported file runs on any ONNX runtime, not only ONNX Runtime.
/// </remarks>
internal sealed class OnnxGraphBuilder(string graphName, bool contribAttention = false, int? int8Limit = null,
    bool contribResidualNorm = false)
{
    /// <summary>Write attention as ONNX Runtime's com.microsoft <c>Attention</c> operator (ONNX Runtime only) instead of
    /// standard operators.</summary>
    public bool ContribAttention { get; } = contribAttention;

    /// <summary>When set, <see cref="Linear"/> writes int8 weights (symmetric, per output column, levels up to this
    /// limit: see <see cref="Int8Weights.Limit"/>) multiplied by activations quantized on each call; null keeps float32.</summary>
    public int? Int8Limit { get; } = int8Limit;

    /// <summary>Write each residual sum and the LayerNorm that reads it as ONNX Runtime's com.microsoft
    /// <c>SkipLayerNormalization</c> (ONNX Runtime only; see <see cref="ResidualNorm"/>).</summary>
    public bool ContribResidualNorm { get; } = contribResidualNorm;

    /// <summary>The operator set every graph is written against.</summary>
    public const int Opset = 17;

    /// <summary>The ONNX IR version of opset 17.</summary>
    public const long IrVersion = 8;

    readonly GraphProto _graph = new() { Name = graphName };
    readonly Dictionary<string, int> _counters = [];
    readonly HashSet<string> _domains = [];
    readonly Dictionary<(string, float), string> _scalars = [];
    readonly Dictionary<(string, long), string> _indices = [];
    long _weightBytes;

    /// <summary>Bytes of weights and other raw initializers (float32 and int8) added so far (a protobuf file holds at
    /// most 2 GiB).</summary>
    public long WeightBytes => _weightBytes;

    /// <summary>Declares a graph input; a dimension given as a string is symbolic (dynamic), an integer is fixed.</summary>
    public string Input(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        _graph.Input.Add(ValueInfo(name, type, dims));
        return name;
    }

    /// <summary>Marks <paramref name="value"/> as a graph output named <paramref name="name"/> (an Identity renames it).</summary>
    public void Output(string value, string name, TensorProto.Types.DataType type, params object[] dims)
    {
        Node("Identity", [value], [], name);
        _graph.Output.Add(ValueInfo(name, type, dims));
    }

    /// <summary>A float32 initializer holding a copy of <paramref name="tensor"/> (any float dtype, any device).</summary>
    public string Weight(string name, Tensor tensor)
    {
        using var scope = torch.NewDisposeScope();
        var data = tensor.detach().to(ScalarType.Float32, CPU).contiguous();
        return Raw(name, TensorProto.Types.DataType.Float, data.bytes, data.shape);
    }

    /// <summary>A float32 initializer from managed values, with the given shape.</summary>
    public string Floats(string name, float[] values, params long[] dims) =>
        Raw(Unique(name), TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(values.AsSpan()), dims);

    /// <summary>An initializer of any element type from its little-endian, row-major bytes (int8 weights, int32 biases,
    /// quantization zero points); the name is made unique.</summary>
    public string Constant(string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> bytes, params long[] dims) =>
        Raw(Unique(name), type, bytes, dims);

    /// <summary>An initializer holding <paramref name="bytes"/> as they are (little-endian, row-major); every weight goes
    /// through here, so <see cref="WeightBytes"/> counts them all.</summary>
    string Raw(string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> bytes, long[] dims)
    {
        var proto = new TensorProto { Name = name, DataType = (int)type };
        proto.Dims.AddRange(dims);
        proto.RawData = ByteString.CopyFrom(bytes);
        _graph.Initializer.Add(proto);
        _weightBytes += bytes.Length;
        return name;
    }

    /// <summary>A float32 scalar constant (shape []) for element-wise arithmetic; one initializer per name and value.</summary>
    public string Scalar(string name, float value)
    {
        if (_scalars.TryGetValue((name, value), out var known)) return known;
        var proto = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Float };
        proto.FloatData.Add(value);
        _graph.Initializer.Add(proto);
        return _scalars[(name, value)] = proto.Name;
    }

    /// <summary>An int64 scalar constant (shape []): a <c>Gather</c> index that drops the axis, as <c>select</c> does.</summary>
    public string Int64Scalar(string name, long value)
    {
        if (_indices.TryGetValue((name, value), out var known)) return known;
        var proto = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Int64Data.Add(value);
        _graph.Initializer.Add(proto);
        return _indices[(name, value)] = proto.Name;
    }

    /// <summary>A 1-D int64 constant (shapes, axes, slice bounds).</summary>
    public string Int64s(string name, params long[] values)
    {
        var proto = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        _graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>Adds one operator and returns its (first) output's name.</summary>
    /// <param name="op">The ONNX operator type, e.g. <c>MatMul</c>.</param>
    /// <param name="inputs">Input value names, in the operator's order ("" for an omitted optional input).</param>
    /// <param name="attributes">The operator's attributes.</param>
    /// <param name="output">The output's name; null picks a unique one from the operator type.</param>
    /// <param name="domain">The operator set: "" for standard ONNX, "com.microsoft" for ONNX Runtime's contrib operators.</param>
    public string Node(string op, string[] inputs, AttributeProto[] attributes, string? output = null, string domain = "")
    {
        output ??= Unique(op);
        Append(op, inputs, attributes, [output], domain);
        return output;
    }

    public string Node(string op, params string[] inputs) => Node(op, inputs, []);

    /// <summary>Adds one operator with several outputs ("" for an optional output not wanted); returns their names.</summary>
    public string[] Node(string op, string[] inputs, AttributeProto[] attributes, string[] outputs, string domain)
    {
        var named = outputs.Select(o => o.Length == 0 ? "" : Unique(o)).ToArray();
        Append(op, inputs, attributes, named, domain);
        return named;
    }

    // The node itself, named after its operator and first wanted output (unique, so node names are too).
    void Append(string op, string[] inputs, AttributeProto[] attributes, string[] outputs, string domain)
    {
        var node = new NodeProto { OpType = op, Name = $"{op}_{outputs.First(n => n.Length > 0)}", Domain = domain };
        if (domain.Length > 0) _domains.Add(domain);
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
    }

    // The operators the towers use, named as ONNX names them.
    public string Add(string a, string b) => Node("Add", a, b);
    public string Mul(string a, string b) => Node("Mul", a, b);
    public string MatMul(string a, string b) => Node("MatMul", a, b);
    public string Sigmoid(string x) => Node("Sigmoid", x);
    public string Relu(string x) => Node("Relu", x);
    public string Softmax(string x, long axis = -1) => Node("Softmax", [x], [Int("axis", axis)]);
    public string Reshape(string x, params long[] shape) => Node("Reshape", x, Int64s("shape", shape));
    public string Transpose(string x, params long[] perm) => Node("Transpose", [x], [Ints("perm", perm)]);
    public string Concat(long axis, params string[] parts) => Node("Concat", parts, [Int("axis", axis)]);
    public string Gather(string data, string indices, long axis) => Node("Gather", [data, indices], [Int("axis", axis)]);

    /// <summary><c>x · Wᵀ + b</c> as a <c>MatMul</c> by the transposed weight and an <c>Add</c>: the pattern ONNX Runtime
    /// fuses (MatMul+Add into one kernel with prepacked weights), the weight stored already transposed.</summary>
    public string Linear(string x, string name, Tensor weight, Tensor? bias)
    {
        using var transposed = weight.detach().t();
        if (Int8Limit is { } limit) return QuantizedMatMul(x, name, Int8Weights.PerOutputColumn(transposed, limit), bias);
        var y = MatMul(x, Weight(name + ".weight.T", transposed));
        return bias is null ? y : Add(y, Weight(name + ".bias", bias));
    }

    /// <summary>
    /// <c>x · W + b</c> with <paramref name="weight"/> [in, out] as int8: ONNX Runtime's com.microsoft
    /// <c>DynamicQuantizeMatMul</c>, which quantizes <c>x</c> to uint8 per call (its own min/max, so no calibration set is
    /// needed), multiplies uint8 × int8 into int32 with prepacked weights, and scales back to float32 with the bias added.
    /// </summary>
    public string QuantizedMatMul(string x, string name, Int8Weights weight, Tensor? bias)
    {
        var values = Raw(Unique(name + ".weight.T.int8"), TensorProto.Types.DataType.Int8, MemoryMarshal.AsBytes(weight.Values.AsSpan()), weight.Shape);
        var scales = Floats(name + ".weight.scale", weight.Scales, weight.Scales.Length);
        string[] inputs = bias is null ? [x, values, scales] : [x, values, scales, "", Weight(name + ".bias", bias)];
        return Node("DynamicQuantizeMatMul", inputs, [], domain: "com.microsoft");
    }

    /// <summary>PyTorch's LayerNorm over the last axis (its default epsilon 1e-5) as the one ONNX operator.</summary>
    public string LayerNorm(string x, string name, Tensor weight, Tensor bias, double epsilon = 1e-5) =>
        Node("LayerNormalization", [x, Weight(name + ".weight", weight), Weight(name + ".bias", bias)],
            [Int("axis", -1), Float("epsilon", (float)epsilon)]);

    /// <summary>
    /// A residual sum and the LayerNorm that reads it: <c>sum = residual + (delta + deltaBias)</c>, <c>normed = LN(sum)</c>.
    /// Standard operators by default; with <see cref="ContribResidualNorm"/> one com.microsoft
    /// <c>SkipLayerNormalization</c>, which adds the bias and the residual and normalises in one pass over the rows and
    /// hands back the sum too (its fourth output). ONNX Runtime never fuses this itself in a pre-LayerNorm transformer:
    /// its SkipLayerNorm fusion wants the sum read by the LayerNorm alone, and here the next residual reads it too.
    /// </summary>
    // residual, delta: [rows, width] or [batch, tokens, width]; deltaBias: [width], the bias of the layer that made delta
    public (string Normed, string Sum) ResidualNorm(string residual, string delta, string deltaBiasName, Tensor deltaBias,
        string norm, Tensor weight, Tensor bias, double epsilon = 1e-5)
    {
        var biasName = Weight(deltaBiasName, deltaBias);
        if (!ContribResidualNorm)
        {
            var sum = Add(residual, Add(delta, biasName));
            return (LayerNorm(sum, norm, weight, bias, epsilon), sum);
        }
        var outputs = Node("SkipLayerNormalization", [delta, residual, Weight(norm + ".weight", weight), Weight(norm + ".bias", bias), biasName],
            [Float("epsilon", (float)epsilon)], ["SkipLayerNormalization", "", "", "residual_sum"], "com.microsoft");
        return (outputs[0], outputs[3]);
    }

    /// <summary>The finished model: this graph, opset 17, with producer information.</summary>
    public ModelProto Build(string docString)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "SharpClip",
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "",
            Graph = _graph,
            DocString = docString,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var domain in _domains) model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = 1 });
        return model;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    string Unique(string stem)
    {
        _counters.TryGetValue(stem, out int n);
        _counters[stem] = n + 1;
        return $"{stem}_{n}";
    }

    static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d switch
            {
                string symbol => new TensorShapeProto.Types.Dimension { DimParam = symbol },
                int n => new TensorShapeProto.Types.Dimension { DimValue = n },
                long n => new TensorShapeProto.Types.Dimension { DimValue = n },
                _ => throw new ArgumentException($"a dimension is a symbol or a size, not {d.GetType().Name}", nameof(dims)),
            });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
