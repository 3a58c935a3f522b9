using SharpClip.Text.Cleanup;
using SharpClip.Text.Unicode;

namespace SharpClip.Text;

/// <summary>Settings for <see cref="BpeTrainer"/>.</summary>
public sealed record BpeTrainerOptions
{
    /// <summary>Total ids wanted: 512 byte symbols + merges + 2 special tokens (CLIP: 49408).</summary>
    public int VocabSize { get; init; } = 49408;
    /// <summary>A pair seen fewer times than this is never merged (training stops early instead).</summary>
    public int MinPairFrequency { get; init; } = 2;
}

/// <summary>
/// Learns CLIP-style byte-level BPE merges from a caption corpus, for training CLIP from scratch on a new domain.
/// Captions get exactly the tokenizer's cleanup and pre-tokenisation; words start as UTF-8 bytes with the last one
/// word-final, and each step merges the most frequent adjacent pair (counted over all words, weighted by word
/// frequency). Deterministic: ties are broken by the pair's symbols in ordinal string order (left, then right),
/// so the same corpus gives the same merges on any machine. The result has CLIP's layout and can be saved with
/// <see cref="BpeVocabulary.SaveOpenAi"/> or <see cref="BpeVocabulary.SaveHuggingFace"/>.
/// </summary>
public static class BpeTrainer
{
    /// <summary>Learns up to <c>VocabSize - 514</c> merges; reports the number of merges done so far.</summary>
    public static BpeVocabulary Train(IEnumerable<string> captions, BpeTrainerOptions? options = null,
        IProgress<int>? mergesDone = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(captions);
        options ??= new BpeTrainerOptions();
        int target = options.VocabSize - 512 - 2;
        if (target < 0) throw new ArgumentOutOfRangeException(nameof(options), options.VocabSize, "VocabSize must be at least 514 (byte symbols and special tokens)");

        // Symbols: strings, with ids local to training. Ids 0..511 are the byte symbols and their word-final forms.
        var symbols = new List<string>();
        var symbolId = new Dictionary<string, int>(StringComparer.Ordinal);
        int SymbolOf(string s)
        {
            if (!symbolId.TryGetValue(s, out int id)) { id = symbols.Count; symbols.Add(s); symbolId[s] = id; }
            return id;
        }
        for (int b = 0; b < 256; b++) SymbolOf(ByteLevel.CharOfByte[b].ToString());
        for (int b = 0; b < 256; b++) SymbolOf(ByteLevel.CharOfByte[b] + BpeVocabulary.EndOfWord);

        // Word frequencies over the cleaned, pre-tokenised corpus (special-token texts are not words).
        var wordCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var caption in captions)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var cps = ClipTextCleaner.Clean(caption);
            foreach (var piece in PreTokenizer.Split(cps))
            {
                var span = cps.AsSpan(piece.Start, piece.Length);
                if (PreTokenizer.SpecialKind(span) != 0) continue;
                var key = ByteLevel.Encode(CodePoints.ToUtf8(span));
                wordCounts[key] = wordCounts.GetValueOrDefault(key) + 1;
            }
        }
        var words = new List<int[]>(wordCounts.Count);
        var counts = new List<long>(wordCounts.Count);
        foreach (var (w, c) in wordCounts.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            var ids = new int[w.Length];
            for (int i = 0; i < w.Length; i++)
            {
                ByteLevel.TryGetByte(w[i], out byte b);
                ids[i] = i == w.Length - 1 ? 256 + b : b;
            }
            words.Add(ids);
            counts.Add(c);
        }

        var pairCount = new Dictionary<long, long>();
        var pairWords = new Dictionary<long, HashSet<int>>();
        static long Key(int a, int b) => (long)a << 32 | (uint)b;
        void AddPairs(int w, long sign)
        {
            var s = words[w];
            for (int i = 0; i + 1 < s.Length; i++)
            {
                long k = Key(s[i], s[i + 1]);
                pairCount[k] = pairCount.GetValueOrDefault(k) + sign * counts[w];
                if (sign > 0)
                {
                    if (!pairWords.TryGetValue(k, out var set)) pairWords[k] = set = new HashSet<int>();
                    set.Add(w);
                }
            }
        }
        for (int w = 0; w < words.Count; w++) AddPairs(w, +1);

        // Max-heap on (count, then smallest left string, then smallest right string); stale entries are skipped.
        var comparer = Comparer<(long Count, int Left, int Right)>.Create((x, y) =>
        {
            int c = y.Count.CompareTo(x.Count);
            if (c != 0) return c;
            c = string.CompareOrdinal(symbols[x.Left], symbols[y.Left]);
            return c != 0 ? c : string.CompareOrdinal(symbols[x.Right], symbols[y.Right]);
        });
        var heap = new PriorityQueue<long, (long Count, int Left, int Right)>(comparer);
        foreach (var (k, c) in pairCount) heap.Enqueue(k, (c, (int)(k >> 32), (int)k));

        var merges = new List<(string, string)>(target);
        while (merges.Count < target && heap.TryDequeue(out long best, out var prio))
        {
            long current = pairCount.GetValueOrDefault(best);
            if (current != prio.Count) continue; // stale
            if (current < options.MinPairFrequency) break;
            cancellationToken.ThrowIfCancellationRequested();
            int a = prio.Left, b = prio.Right;
            string merged = symbols[a] + symbols[b];
            int m = SymbolOf(merged);
            merges.Add((symbols[a], symbols[b]));

            var changed = new HashSet<long>();
            foreach (int w in pairWords[best].Order())
            {
                var s = words[w];
                bool has = false;
                for (int i = 0; i + 1 < s.Length; i++) if (s[i] == a && s[i + 1] == b) { has = true; break; }
                if (!has) continue;
                for (int i = 0; i + 1 < s.Length; i++) changed.Add(Key(s[i], s[i + 1]));
                AddPairs(w, -1);
                var next = new List<int>(s.Length);
                for (int i = 0; i < s.Length; i++)
                {
                    if (s[i] == a && i + 1 < s.Length && s[i + 1] == b) { next.Add(m); i++; }
                    else next.Add(s[i]);
                }
                words[w] = next.ToArray();
                AddPairs(w, +1);
                for (int i = 0; i + 1 < words[w].Length; i++) changed.Add(Key(words[w][i], words[w][i + 1]));
            }
            foreach (long k in changed)
            {
                long c = pairCount.GetValueOrDefault(k);
                if (c > 0) heap.Enqueue(k, (c, (int)(k >> 32), (int)k));
                else pairCount.Remove(k);
            }
            mergesDone?.Report(merges.Count);
        }
        return BpeVocabulary.FromMerges(merges, $"trained vocabulary ({merges.Count} merges)");
    }
}
