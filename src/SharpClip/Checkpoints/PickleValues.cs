using System.Numerics;

namespace SharpClip.Checkpoints;

// The values a pickle produces in our interpreter. Python's None, bool, int, float, str and bytes map to null, bool,
// long (BigInteger when it does not fit), double, string and byte[]; list to List<object?>; the rest are below.
// Host objects (tensor references, TorchScript objects) are whatever IPickleHost returns.

/// <summary>An immutable pickled tuple, with structural equality so it can be a dictionary key as in Python.</summary>
internal sealed class PickleTuple(object?[] items) : IReadOnlyList<object?>, IEquatable<PickleTuple>
{
    public static readonly PickleTuple Empty = new([]);

    readonly object?[] _items = items;

    public int Count => _items.Length;
    public object? this[int index] => _items[index];
    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)_items).GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => _items.GetEnumerator();

    public bool Equals(PickleTuple? other) =>
        other is not null && other._items.Length == _items.Length && _items.Zip(other._items).All(p => PickleKey.Same(p.First, p.Second));

    public override bool Equals(object? obj) => obj is PickleTuple t && Equals(t);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var i in _items) h.Add(PickleKey.Hash(i));
        return h.ToHashCode();
    }

    public override string ToString() => "(" + string.Join(", ", _items.Select(PickleKey.Describe)) + ")";
}

/// <summary>A pickled dict (or OrderedDict): insertion-ordered, keys compared like Python's hashable values.</summary>
internal sealed class PickleDict
{
    readonly List<KeyValuePair<object?, object?>> _items = [];
    readonly Dictionary<PickleKey, int> _index = [];

    /// <summary>Set by BUILD on an OrderedDict (torch state dicts carry <c>_metadata</c> this way).</summary>
    public Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);

    public int Count => _items.Count;
    public IEnumerable<KeyValuePair<object?, object?>> Items => _items;

    public void Set(object? key, object? value)
    {
        var k = new PickleKey(key);
        if (_index.TryGetValue(k, out int i)) _items[i] = new(key, value);
        else { _index[k] = _items.Count; _items.Add(new(key, value)); }
    }

    public bool TryGet(object? key, out object? value)
    {
        if (_index.TryGetValue(new PickleKey(key), out int i)) { value = _items[i].Value; return true; }
        value = null;
        return false;
    }
}

/// <summary>A pickled set/frozenset; only ever inspected, so a list keeps it simple.</summary>
internal sealed class PickleSet(List<object?> items)
{
    public List<object?> Items { get; } = items;
}

/// <summary>Wraps a pickled value so Python-equal keys (1 == 1.0 == True, equal strings, equal tuples) collide.</summary>
internal readonly struct PickleKey(object? value) : IEquatable<PickleKey>
{
    readonly object? _value = value;

    public bool Equals(PickleKey other) => Same(_value, other._value);
    public override bool Equals(object? obj) => obj is PickleKey k && Equals(k);
    public override int GetHashCode() => Hash(_value);

    public static bool Same(object? a, object? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (Numeric(a) is { } x && Numeric(b) is { } y) return x == y;
        if (a is byte[] ba && b is byte[] bb) return ba.AsSpan().SequenceEqual(bb);
        return a.Equals(b);
    }

    public static int Hash(object? v) => v switch
    {
        null => 0,
        byte[] b => b.Length,
        _ when Numeric(v) is { } d => d.GetHashCode(),
        _ => v.GetHashCode(),
    };

    // Python hashes equal numbers equally across bool/int/float; doubles are exact for the ints keys use.
    static double? Numeric(object v) => v switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        double d => d,
        BigInteger bi => (double)bi,
        _ => null,
    };

    public static string Describe(object? v) => v switch
    {
        null => "None",
        string s => $"'{s}'",
        bool b => b ? "True" : "False",
        _ => v.ToString() ?? v.GetType().Name,
    };
}
