using System.Collections.Concurrent;

namespace SharpClip.Text;

/// <summary>
/// Applies a vocabulary's merges to one pre-token, as CLIP's <c>SimpleTokenizer.bpe</c> does: start from the
/// token's UTF-8 bytes (the last one word-final), repeatedly merge every non-overlapping occurrence, left to right,
/// of the adjacent pair with the lowest rank, until no pair has a rank. Results are cached per pre-token
/// (thread-safe); the cache is cleared when it grows past <see cref="MaxCacheEntries"/> so memory stays bounded.
/// </summary>
internal sealed class BpeEncoder
{
    public const int MaxCacheEntries = 1 << 20;

    readonly BpeVocabulary _vocab;
    readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    public BpeEncoder(BpeVocabulary vocab) => _vocab = vocab;

    public int[] Encode(string piece, ReadOnlySpan<byte> utf8)
    {
        if (_cache.TryGetValue(piece, out var ids)) return ids;
        ids = Merge(utf8);
        if (_cache.Count >= MaxCacheEntries) _cache.Clear();
        _cache.TryAdd(piece, ids);
        return ids;
    }

    int[] Merge(ReadOnlySpan<byte> utf8)
    {
        int n = utf8.Length;
        var word = new int[n];
        for (int i = 0; i < n; i++) word[i] = i == n - 1 ? _vocab.ByteEndId[utf8[i]] : _vocab.ByteId[utf8[i]];
        var ranks = _vocab.RankOfPair;
        while (n > 1)
        {
            int best = int.MaxValue;
            for (int i = 0; i + 1 < n; i++)
                if (ranks.TryGetValue((long)word[i] << 32 | (uint)word[i + 1], out int r) && r < best) best = r;
            if (best == int.MaxValue) break;
            int a = _vocab.MergeLeftId[best], b = _vocab.MergeRightId[best];
            int merged = _vocab.MergedIdOfRank[best], w = 0;
            for (int i = 0; i < n; i++)
            {
                if (word[i] == a && i + 1 < n && word[i + 1] == b) { word[w++] = merged; i++; }
                else word[w++] = word[i];
            }
            n = w;
        }
        return word[..n];
    }
}
