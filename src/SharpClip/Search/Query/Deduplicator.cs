using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Search;

/// <summary>A set of images that are all linked by chains of pairs at or above the threshold; ids ascending.</summary>
public sealed record DuplicateGroup(IReadOnlyList<long> Ids, float MaxScore, float MinLinkScore);

/// <summary>
/// Finds near-duplicate groups: every pair with cosine ≥ threshold, found with blocked matrix products (a chunk of
/// rows against each block, never the full N×N matrix), then joined into groups with union-find.
/// </summary>
public static class Deduplicator
{
    /// <summary>Stops a threshold so low that nearly every pair matches from exhausting memory.</summary>
    public const long MaxPairs = 20_000_000;

    public static IReadOnlyList<DuplicateGroup> FindGroups(EmbeddingMatrix matrix, float threshold, int chunkRows = 512, CancellationToken ct = default)
    {
        if (threshold is <= -1f or > 1f || float.IsNaN(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "threshold must be in (-1, 1]");
        var blocks = matrix.ValidBlocks().ToList();
        var starts = new long[blocks.Count];
        for (int b = 1; b < blocks.Count; b++) starts[b] = starts[b - 1] + blocks[b - 1].Rows;
        var pairs = new List<(int A, int B, float Score)>();

        for (int qb = 0; qb < blocks.Count; qb++)
        {
            var (qBlock, qRows) = blocks[qb];
            for (long c0 = 0; c0 < qRows; c0 += chunkRows)
            {
                ct.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                using var noGrad = torch.no_grad();
                long c = Math.Min(chunkRows, qRows - c0);
                long chunkStart = starts[qb] + c0;
                var chunk = qBlock.narrow(1, c0, c).t();                                       // [c, D]
                for (int b = qb; b < blocks.Count; b++)
                {
                    var (block, n) = blocks[b];
                    var scores = chunk.mm(block.narrow(1, 0, n));                              // [c, n]
                    var hit = scores.ge(threshold);
                    if (b == qb)
                    {
                        // keep only column row > query row, so each pair is found once and self-pairs never
                        var colRow = torch.arange(starts[b], starts[b] + n, dtype: ScalarType.Int64).unsqueeze(0);   // [1, n]
                        var qRow = torch.arange(chunkStart, chunkStart + c, dtype: ScalarType.Int64).unsqueeze(1);  // [c, 1]
                        hit = hit.logical_and(colRow.gt(qRow));
                    }
                    var where = hit.nonzero();                                                 // [P, 2]
                    long p = where.shape[0];
                    if (p == 0) continue;
                    if (pairs.Count + p > MaxPairs)
                        throw new InvalidOperationException($"more than {MaxPairs} pairs reach threshold {threshold}; raise the threshold");
                    var vals = scores.index([where.select(1, 0), where.select(1, 1)]).data<float>().ToArray();
                    var rc = where.data<long>().ToArray();
                    for (int i = 0; i < p; i++)
                        pairs.Add(((int)(chunkStart + rc[2 * i]), (int)(starts[b] + rc[2 * i + 1]), vals[i]));
                }
            }
        }

        var uf = new UnionFind(matrix.Count);
        foreach (var (a, b, _) in pairs) uf.Union(a, b);
        var groups = new Dictionary<int, (List<long> Ids, float Max, float Min)>();
        foreach (var (a, b, s) in pairs)
        {
            int root = uf.Find(a);
            if (!groups.TryGetValue(root, out var g)) g = ([], float.MinValue, float.MaxValue);
            groups[root] = (g.Ids, Math.Max(g.Max, s), Math.Min(g.Min, s));
        }
        var members = new Dictionary<int, List<long>>();
        for (int row = 0; row < matrix.Count; row++)
        {
            int root = uf.Find(row);
            if (groups.ContainsKey(root))
            {
                if (!members.TryGetValue(root, out var list)) members[root] = list = [];
                list.Add(matrix.IdAt(row));
            }
        }
        return groups.Select(kv =>
            {
                var ids = members[kv.Key];
                ids.Sort();
                return new DuplicateGroup(ids, kv.Value.Max, kv.Value.Min);
            })
            .OrderByDescending(g => g.Ids.Count).ThenBy(g => g.Ids[0]).ToList();
    }
}
