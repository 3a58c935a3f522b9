using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Search;

/// <summary>An id and its cosine similarity to a query.</summary>
public readonly record struct ScoredId(long Id, float Score);

/// <summary>
/// The index's embeddings in memory, for exact cosine top-k with matrix products. Rows live in float32 blocks stored
/// TRANSPOSED, each a contiguous [dimension, blockRows] tensor: a query is then a [1,D]x[D,B] GEMM per block, which
/// libtorch runs at memory speed on several cores, whereas the row-major [B,D]x[D] product runs as a slower
/// single-threaded GEMV (measured 2.3x slower at 1M x 512). Each block keeps its own top-k and the few block winners
/// are merged, so no [N] score vector for a whole million rows is sorted. Rows can be added, replaced and removed
/// in place (the web app follows a growing index). Not thread-safe: callers serialise access.
/// </summary>
public sealed class EmbeddingMatrix : IDisposable
{
    const int MinBlockCapacity = 1024;
    readonly List<Tensor> blocks = [];      // each [Dimension, capacity_b]; all but the last hold exactly BlockRows rows
    long[] ids = new long[MinBlockCapacity];
    readonly Dictionary<long, int> rowOf = [];
    float[] stage = [];                     // rows appended since the last flush, row-major [n, Dimension]
    int flushed;                            // rows [0, flushed) are in the tensors

    public EmbeddingMatrix(int dimension, int blockRows = 65536)
    {
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "dimension must be positive");
        if (blockRows < MinBlockCapacity) throw new ArgumentOutOfRangeException(nameof(blockRows), blockRows, $"block rows must be at least {MinBlockCapacity}");
        Dimension = dimension;
        BlockRows = blockRows;
    }

    public int Dimension { get; }
    public int BlockRows { get; }
    public int Count { get; private set; }

    /// <summary>Bytes of embedding storage currently allocated (capacity, not just rows in use).</summary>
    public long AllocatedBytes => blocks.Sum(b => b.NumberOfElements * 4L) + (long)stage.Length * 4;

    public bool Contains(long id) => rowOf.ContainsKey(id);

    /// <summary>Adds a row, or replaces the row with the same id.</summary>
    public void Upsert(long id, ReadOnlySpan<float> embedding)
    {
        if (embedding.Length != Dimension) throw new ArgumentException($"embedding has {embedding.Length} values, expected {Dimension}", nameof(embedding));
        if (rowOf.TryGetValue(id, out int row))
        {
            if (row >= flushed) embedding.CopyTo(stage.AsSpan((row - flushed) * Dimension, Dimension));
            else
            {
                using var scope = torch.NewDisposeScope();
                Column(row).copy_(torch.tensor(embedding.ToArray()));
            }
            return;
        }
        row = Count;
        if (row == ids.Length) Array.Resize(ref ids, ids.Length * 2);
        ids[row] = id;
        rowOf[id] = row;
        Count++;
        int need = (Count - flushed) * Dimension;
        if (need > stage.Length) Array.Resize(ref stage, Math.Max(need, Math.Min(stage.Length * 2, BlockRows * Dimension)));
        embedding.CopyTo(stage.AsSpan((row - flushed) * Dimension, Dimension));
        if (Count - flushed >= BlockRows) Flush();
    }

    /// <summary>Removes a row by moving the last row into its place; false if the id is unknown.</summary>
    public bool Remove(long id)
    {
        if (!rowOf.Remove(id, out int row)) return false;
        Flush();
        int last = Count - 1;
        if (row != last)
        {
            using (var scope = torch.NewDisposeScope()) Column(row).copy_(Column(last));
            ids[row] = ids[last];
            rowOf[ids[row]] = row;
        }
        Count--;
        flushed = Count;
        return true;
    }

    public void Clear()
    {
        foreach (var b in blocks) b.Dispose();
        blocks.Clear();
        rowOf.Clear();
        Count = flushed = 0;
        stage = [];
    }

    /// <summary>The ids of rows [0, Count), in row order.</summary>
    public ReadOnlySpan<long> Ids => ids.AsSpan(0, Count);

    /// <summary>The k rows most similar to a query (cosine for unit vectors), best first; ties broken by smaller id.</summary>
    public IReadOnlyList<ScoredId> TopK(ReadOnlySpan<float> query, int k) => TopK([query.ToArray()], k)[0];

    /// <summary>Top-k for several queries at once: one [Q,D]x[D,B] product per block.</summary>
    public IReadOnlyList<IReadOnlyList<ScoredId>> TopK(IReadOnlyList<float[]> queries, int k)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1");
        int q = queries.Count;
        var flat = new float[q * Dimension];
        for (int i = 0; i < q; i++)
        {
            if (queries[i].Length != Dimension) throw new ArgumentException($"query {i} has {queries[i].Length} values, expected {Dimension}");
            queries[i].CopyTo(flat, i * Dimension);
        }
        var results = new List<ScoredId>[q];
        for (int i = 0; i < q; i++) results[i] = [];
        Flush();
        if (Count == 0) return results;

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var qm = torch.tensor(flat, [q, Dimension]);                      // [Q, D]
        var values = new List<Tensor>();
        var rows = new List<Tensor>();
        long start = 0;
        foreach (var (block, n) in ValidBlocks())
        {
            var scores = qm.mm(block.narrow(1, 0, n));                   // [Q, n]
            var (v, ix) = scores.topk((int)Math.Min(k, n), dim: 1);     // [Q, k_b]
            values.Add(v);
            rows.Add(ix + start);
            start += n;
        }
        var allV = torch.cat(values, 1);                                  // [Q, sum k_b]
        var allR = torch.cat(rows, 1);
        int kk = (int)Math.Min(k, allV.shape[1]);
        var (bestV, pos) = allV.topk(kk, dim: 1);                          // [Q, kk]
        var bestR = allR.gather(1, pos);
        var sv = bestV.data<float>().ToArray();
        var sr = bestR.data<long>().ToArray();
        for (int i = 0; i < q; i++)
        {
            for (int j = 0; j < kk; j++) results[i].Add(new ScoredId(ids[sr[i * kk + j]], sv[i * kk + j]));
            results[i].Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Id.CompareTo(b.Id));
        }
        return results;
    }

    /// <summary>Copies row <paramref name="row"/> out (for tests and duplicate reports).</summary>
    public float[] Row(int row)
    {
        if ((uint)row >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(row));
        Flush();
        using var scope = torch.NewDisposeScope();
        return Column(row).contiguous().data<float>().ToArray();
    }

    /// <summary>(block tensor [D, capacity], rows in use) for every non-empty block, in row order.</summary>
    internal IEnumerable<(Tensor Block, long Rows)> ValidBlocks()
    {
        Flush();
        for (int b = 0; b < blocks.Count; b++)
        {
            long n = Math.Min(BlockRows, Count - (long)b * BlockRows);
            if (n > 0) yield return (blocks[b], n);
        }
    }

    internal long IdAt(long row) => ids[row];

    /// <summary>Moves staged rows into the block tensors (in block-sized chunks, transposed on the way).</summary>
    void Flush()
    {
        if (flushed == Count) return;
        EnsureCapacity(Count);
        using var scope = torch.NewDisposeScope();
        int row = flushed;
        while (row < Count)
        {
            int b = row / BlockRows, col = row % BlockRows;
            int n = Math.Min(Count - row, BlockRows - col);
            var chunk = torch.tensor(stage.AsMemory((row - flushed) * Dimension, n * Dimension), [n, Dimension]);   // [n, D]
            blocks[b].narrow(1, col, n).copy_(chunk.t());
            row += n;
        }
        flushed = Count;
        if (stage.Length > 4 * MinBlockCapacity * Dimension) stage = [];
    }

    void EnsureCapacity(int rows)
    {
        int needBlocks = (rows + BlockRows - 1) / BlockRows;
        for (int b = 0; b < needBlocks; b++)
        {
            int needCols = Math.Min(BlockRows, rows - b * BlockRows);
            if (b < blocks.Count)
            {
                long have = blocks[b].shape[1];
                if (have >= needCols) continue;
                int grown = (int)Math.Min(BlockRows, Math.Max(needCols, have * 2));
                var bigger = torch.zeros(Dimension, grown);
                using (var _ = torch.no_grad()) bigger.narrow(1, 0, have).copy_(blocks[b]);
                blocks[b].Dispose();
                blocks[b] = bigger.DetachFromDisposeScope();
            }
            else
            {
                int cap = b < needBlocks - 1 ? BlockRows : Math.Min(BlockRows, Math.Max(MinBlockCapacity, NextPow2(needCols)));
                blocks.Add(torch.zeros(Dimension, cap).DetachFromDisposeScope());
            }
        }
    }

    static int NextPow2(int x)
    {
        int p = 1;
        while (p < x) p <<= 1;
        return p;
    }

    Tensor Column(long row) => blocks[(int)(row / BlockRows)].select(1, row % BlockRows);

    public void Dispose() => Clear();
}
