using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Dalle.Transformer;

/// <summary>
/// One attention layer's keys and values of the positions already decoded, in buffers allocated once for the whole
/// sequence: each new token writes its key and value in place and attends over a view of the filled part, so a
/// token costs one projection of itself plus attention over the prefix — the prefix is never recomputed or copied.
/// </summary>
public sealed class LayerKvCache : IDisposable
{
    readonly Tensor _keys;     // [batch, heads, capacity, head_width]
    readonly Tensor _values;   // [batch, heads, capacity, head_width]

    internal LayerKvCache(long batch, long heads, long capacity, long headWidth, ScalarType dtype)
    {
        _keys = torch.zeros([batch, heads, capacity, headWidth], dtype: dtype).DetachFromDisposeScope();
        _values = torch.zeros([batch, heads, capacity, headWidth], dtype: dtype).DetachFromDisposeScope();
        Capacity = capacity;
    }

    public long Capacity { get; }

    /// <summary>Positions filled.</summary>
    public long Length { get; private set; }

    /// <summary>Writes the new positions' keys and values [batch, heads, n, head_width] and returns views of every filled position.</summary>
    /// <returns>Keys and values [batch, heads, Length, head_width] (views in the caller's dispose scope).</returns>
    internal (Tensor Keys, Tensor Values) Append(Tensor keys, Tensor values)
    {
        long n = keys.shape[2];
        if (Length + n > Capacity) throw new InvalidOperationException($"the key/value cache holds {Capacity} positions; {Length} + {n} do not fit");
        _keys.narrow(2, Length, n).copy_(keys);
        _values.narrow(2, Length, n).copy_(values);
        Length += n;
        return (_keys.narrow(2, 0, Length), _values.narrow(2, 0, Length));
    }

    public void Dispose()
    {
        _keys.Dispose();
        _values.Dispose();
    }
}

/// <summary>The key/value caches of every layer for one batch of sequences being decoded.</summary>
public sealed class KvCache : IDisposable
{
    public KvCache(DalleConfig config, long batch, ScalarType dtype = ScalarType.Float32)
    {
        long capacity = config.InputLength;
        Layers = [.. Enumerable.Range(0, config.Layers).Select(_ => new LayerKvCache(batch, config.Heads, capacity, config.Width / config.Heads, dtype))];
    }

    public IReadOnlyList<LayerKvCache> Layers { get; }

    /// <summary>Positions decoded so far (the next token's position).</summary>
    public long Length => Layers[0].Length;

    public void Dispose()
    {
        foreach (var l in Layers) l.Dispose();
    }
}
