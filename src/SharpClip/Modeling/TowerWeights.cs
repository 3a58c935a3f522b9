using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// The live tensors of one tower, by their state-dict keys (the reference's names), handed to an engine that copies
/// them (the ONNX graph writer, the managed engine) one key at a time. Every key the tower has must be read:
/// <see cref="RequireAllUsed"/> fails, naming the keys, when a module gained a tensor the reader does not know, so a
/// changed model never runs as a silently partial tower.
/// </summary>
internal sealed class TowerWeights
{
    readonly IReadOnlyDictionary<string, Tensor> _tensors;
    readonly HashSet<string> _used = [];
    readonly string _source, _reader;

    /// <param name="stateDict">The model's state dict (tensors are borrowed, not copied or disposed).</param>
    /// <param name="belongs">Which keys make up this tower.</param>
    /// <param name="source">The model's source, named in errors.</param>
    /// <param name="reader">Who reads them, named in errors ("the ONNX writer").</param>
    public TowerWeights(IReadOnlyDictionary<string, Tensor> stateDict, Func<string, bool> belongs, string source, string reader = "the ONNX writer")
    {
        _reader = reader;
        _tensors = stateDict.Where(kv => belongs(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        _source = source;
    }

    /// <summary>The tensor under <paramref name="key"/>, marked as written.</summary>
    public Tensor this[string key]
    {
        get
        {
            if (!_tensors.TryGetValue(key, out var t))
                throw new InvalidDataException($"{_source}: {_reader} needs '{key}', which the model does not have");
            _used.Add(key);
            return t;
        }
    }

    public bool Has(string key) => _tensors.ContainsKey(key);

    /// <summary>Throws when a tensor of the tower was not written (BatchNorm's step counter aside: it computes nothing).</summary>
    public void RequireAllUsed(string tower)
    {
        var left = _tensors.Keys.Where(k => !_used.Contains(k) && !k.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        if (left.Count > 0)
            throw new NotSupportedException($"{_source}: {_reader} does not know what to do with the {tower} tensor(s) " +
                                            $"{string.Join(", ", left.Take(5))}{(left.Count > 5 ? $" and {left.Count - 5} more" : "")}");
    }
}
