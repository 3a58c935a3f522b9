namespace SharpClip.Data.Loading;

/// <summary>
/// WebDataset-style streaming shuffle: fill a buffer of N items, then for each new item emit a random resident and
/// put the new one in its place; at the end emit the rest in random order. Bounded memory, and a pure function of
/// the input order and the random sequence.
/// </summary>
internal sealed class ShuffleBuffer<T>(int capacity, Random random)
{
    private readonly List<T> _items = new(Math.Min(capacity, 1 << 16));

    /// <summary>Adds an item; returns true with the item to emit once the buffer is full.</summary>
    public bool Add(T item, out T emitted)
    {
        if (capacity <= 1) { emitted = item; return true; }
        if (_items.Count < capacity) { _items.Add(item); emitted = default!; return false; }
        int j = random.Next(capacity);
        emitted = _items[j];
        _items[j] = item;
        return true;
    }

    /// <summary>Empties the buffer in random order.</summary>
    public IEnumerable<T> Drain()
    {
        for (int i = _items.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (_items[i], _items[j]) = (_items[j], _items[i]);
        }
        var rest = _items.ToArray();
        _items.Clear();
        return rest;
    }
}
