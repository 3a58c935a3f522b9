using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Search;

/// <summary>A set of images that are all linked by chains of pairs at or above the threshold; ids ascending.</summary>
public sealed record DuplicateGroup(IReadOnlyList<long> Ids, float MaxScore, float MinLinkScore);

/// <summary>
/// Finds near-duplicate groups: every pair with cosine ≥ threshold, found with blocked matrix products (a chunk of
/// rows against each block of later rows, never the full N×N matrix), then joined into groups with union-find.
/// </summary>
public static class Deduplicator
{
    /// <summary>Stops a threshold so low that nearly every pair matches from exhausting memory.</summary>
    public const long MaxPairs = 20_000_000;

    public static IReadOnlyList<DuplicateGroup> FindGroups(EmbeddingMatrix matrix, float threshold, int chunkRows = 512, CancellationToken ct = default)
    {
        if (threshold is <= -1f or > 1f || float.IsNaN(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "threshold must be in (-1, 1]");
        int count = matrix.Count;
        const int ColumnRows = 16384;
        var pairs = new List<(int A, int B, float Score)>();
        using Scalar atLeast = threshold;   // held for every chunk's comparison (Modeling/KeptScalars)

        // each column block is copied into one tensor once; every earlier row meets it in chunks, so each pair
        // (row < column) is found exactly once and the full N×N matrix never exists
        for (int c0 = 0; c0 < count; c0 += ColumnRows)
        {
            int cn = Math.Min(ColumnRows, count - c0);
            using var columnScope = torch.NewDisposeScope();
            var columns = Copy(matrix, c0, cn).t().contiguous();                                 // [D, cn]
            for (int r0 = 0; r0 < c0 + cn - 1; r0 += chunkRows)
            {
                ct.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                using var noGrad = torch.no_grad();
                int rn = Math.Min(chunkRows, c0 + cn - 1 - r0);
                var chunk = Copy(matrix, r0, rn);                                                    // [rn, D]
                var scores = chunk.mm(columns);                                                      // [rn, cn]
                var hit = scores.ge(atLeast);
                if (r0 + rn > c0)
                {
                    // the chunk overlaps the column block: keep column row > query row only (no self-pairs, no repeats)
                    var colRow = KeptScalars.Range(c0, c0 + cn, ScalarType.Int64).unsqueeze(0);     // [1, cn]
                    var qRow = KeptScalars.Range(r0, r0 + rn, ScalarType.Int64).unsqueeze(1);       // [rn, 1]
                    hit = hit.logical_and(colRow.gt(qRow));
                }
                var where = hit.nonzero();                                                           // [P, 2]
                long p = where.shape[0];
                if (p == 0) continue;
                if (pairs.Count + p > MaxPairs)
                    throw new InvalidOperationException($"more than {MaxPairs} pairs reach threshold {threshold}; raise the threshold");
                var vals = scores.index([where.select(1, 0), where.select(1, 1)]).data<float>().ToArray();
                var rc = where.data<long>().ToArray();
                for (int i = 0; i < p; i++)
                    pairs.Add(((int)(r0 + rc[2 * i]), (int)(c0 + rc[2 * i + 1]), vals[i]));
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

    /// <summary>Rows [start, start + n) as a new [n, D] tensor.</summary>
    static Tensor Copy(EmbeddingMatrix matrix, int start, int n)
    {
        int d = matrix.Dimension;
        var buffer = new float[(long)n * d];
        for (int i = 0; i < n; i++) matrix.RowSpan(start + i).CopyTo(buffer.AsSpan(i * d, d));
        return torch.tensor(buffer, [n, d]);
    }
}
