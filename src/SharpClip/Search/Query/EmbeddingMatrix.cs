namespace SharpClip.Search;

/// <summary>An id and its cosine similarity to a query.</summary>
public readonly record struct ScoredId(long Id, float Score);

/// <summary>
/// The index's embeddings in memory, for EXACT top-k by dot product (cosine for unit vectors) that reads far less
/// memory than a float32 scan. A float32 scan of a million 512-d rows must stream 2 GB per query and is
/// memory-bound (~100 ms here); this keeps, next to the float32 rows, an int8 copy with one scale per row (0.5 GB)
/// and searches in two stages:
/// <list type="number">
/// <item>Scan the int8 copy with a SIMD integer kernel (<see cref="QuantizedDot"/>, both cores). For each row this
/// gives an estimate a_i and a proven error bound E_i (<see cref="QueryCode"/>), so the exact score lies in
/// [a_i − E_i, a_i + E_i]. With L the k-th largest lower bound, only rows with a_i + E_i ≥ L can be in the top k.</item>
/// <item>Rescore those candidates exactly with the float32 rows (<see cref="ExactDot"/>) and take the top k.</item>
/// </list>
/// The result is identical (ids, order and float scores) to scoring every row with <see cref="ExactDot"/>; if the
/// bound cannot rule out enough rows (near-identical data, huge k) every row is scored exactly instead.
/// Ties are broken by the smaller id. Rows live in pinned managed blocks (not TorchSharp), row-major, and can be
/// added, replaced and removed in place (the web app follows a growing index). Not thread-safe: callers serialise
/// access; one query uses every core.
/// </summary>
public sealed unsafe class EmbeddingMatrix : IDisposable
{
    const int MinBlockCapacity = 1024;
    const int KernelRows = 256;     // integer dots computed per kernel call

    sealed class RowBlock(int capacity, int dimension, int width)
    {
        public readonly int Capacity = capacity;
        public readonly AlignedBuffer<float> Floats = new((long)capacity * dimension);   // [capacity, D] row-major
        public readonly AlignedBuffer<sbyte> Codes = new((long)capacity * width);       // [capacity, W], zero-padded
    }

    readonly List<RowBlock> blocks = [];
    long[] ids = new long[MinBlockCapacity];
    RowCode[] codes = new RowCode[MinBlockCapacity];
    readonly Dictionary<long, int> rowOf = [];

    public EmbeddingMatrix(int dimension, int blockRows = 65536)
    {
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "dimension must be positive");
        if (blockRows < MinBlockCapacity) throw new ArgumentOutOfRangeException(nameof(blockRows), blockRows, $"block rows must be at least {MinBlockCapacity}");
        if ((long)blockRows * dimension > Array.MaxLength - 64)
            throw new ArgumentOutOfRangeException(nameof(blockRows), blockRows, $"{blockRows} rows of {dimension} values do not fit in one block; use fewer block rows");
        Dimension = dimension;
        Width = RowQuantizer.Width(dimension);
        BlockRows = blockRows;
    }

    public int Dimension { get; }
    public int BlockRows { get; }
    public int Count { get; private set; }

    /// <summary>Int8 codes per row (the dimension rounded up to a multiple of 64).</summary>
    internal int Width { get; }

    /// <summary>The int8 kernel; tests force each one the CPU supports.</summary>
    internal ScanPath Path
    {
        get;
        set => field = ScanPaths.IsSupported(value) ? value : throw new PlatformNotSupportedException($"this CPU cannot run the {value} scan");
    } = ScanPaths.Best;

    /// <summary>Rows per parallel work item of the scan.</summary>
    internal int ChunkRows { get; set; } = 16384;

    /// <summary>Above this many candidates, every row is scored exactly instead (null: an eighth of the rows, at least 4096).</summary>
    internal int? MaxCandidates { get; set; }

    /// <summary>What the last top-k query did (for benchmarks and diagnostics).</summary>
    public ScanStatistics LastScan { get; private set; }

    /// <summary>Bytes allocated for embeddings: float32 rows, int8 codes and per-row scales/norms (capacity, not just rows in use).</summary>
    public long AllocatedBytes => blocks.Sum(b => b.Floats.Bytes + b.Codes.Bytes) + (long)codes.Length * sizeof(RowCode);

    /// <summary>Bytes of the int8 copy alone (codes + per-row scale and norms), the part the first stage reads.</summary>
    public long CompactBytes => blocks.Sum(b => b.Codes.Bytes) + (long)codes.Length * sizeof(RowCode);

    public bool Contains(long id) => rowOf.ContainsKey(id);

    /// <summary>Adds a row, or replaces the row with the same id. Values must be finite.</summary>
    public void Upsert(long id, ReadOnlySpan<float> embedding)
    {
        if (embedding.Length != Dimension) throw new ArgumentException($"embedding has {embedding.Length} values, expected {Dimension}", nameof(embedding));
        if (RowQuantizer.Problem(embedding, out float maxAbs) is { } problem) throw new ArgumentException($"embedding of id {id} {problem}", nameof(embedding));
        if (!rowOf.TryGetValue(id, out int row))
        {
            row = Count;
            EnsureCapacity(row + 1);
            if (row == ids.Length)
            {
                Array.Resize(ref ids, ids.Length * 2);
                Array.Resize(ref codes, codes.Length * 2);
            }
            ids[row] = id;
            rowOf[id] = row;
            Count++;
        }
        var (block, offset) = Locate(row);
        embedding.CopyTo(new Span<float>(block.Floats.Pointer + (long)offset * Dimension, Dimension));
        codes[row] = RowQuantizer.Quantize(embedding, maxAbs, new Span<sbyte>(block.Codes.Pointer + (long)offset * Width, Width));
    }

    /// <summary>Removes a row by moving the last row into its place; false if the id is unknown.</summary>
    public bool Remove(long id)
    {
        if (!rowOf.Remove(id, out int row)) return false;
        int last = Count - 1;
        if (row != last)
        {
            var (to, toOffset) = Locate(row);
            var (from, fromOffset) = Locate(last);
            Buffer.MemoryCopy(from.Floats.Pointer + (long)fromOffset * Dimension, to.Floats.Pointer + (long)toOffset * Dimension, Dimension * 4L, Dimension * 4L);
            Buffer.MemoryCopy(from.Codes.Pointer + (long)fromOffset * Width, to.Codes.Pointer + (long)toOffset * Width, Width, Width);
            codes[row] = codes[last];
            ids[row] = ids[last];
            rowOf[ids[row]] = row;
        }
        Count--;
        return true;
    }

    public void Clear()
    {
        blocks.Clear();
        rowOf.Clear();
        Count = 0;
        ids = new long[MinBlockCapacity];
        codes = new RowCode[MinBlockCapacity];
    }

    /// <summary>The ids of rows [0, Count), in row order.</summary>
    public ReadOnlySpan<long> Ids => ids.AsSpan(0, Count);

    /// <summary>The k rows most similar to a query, best first; ties broken by smaller id. Exact (see the class summary).</summary>
    public IReadOnlyList<ScoredId> TopK(ReadOnlySpan<float> query, int k)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1");
        if (query.Length != Dimension) throw new ArgumentException($"query has {query.Length} values, expected {Dimension}", nameof(query));
        if (RowQuantizer.Problem(query, out _) is { } problem) throw new ArgumentException($"query {problem}", nameof(query));
        if (Count == 0) return [];
        var q = new QueryCode(query, Width);
        int limit = MaxCandidates ?? Math.Max(4096, Count / 8);
        if (k >= Count || k > limit) return FullExactScan(q, k);

        // stage 1: int8 scan -> per-worker lower-bound heaps and candidate lists
        var states = Scan(q, k, limit);
        if (states is null) return FullExactScan(q, k);
        var all = new LowerBoundHeap(k);
        foreach (var s in states)
            foreach (double lb in s.Heap.Values) all.Offer(lb);
        double threshold = all.Threshold;
        var candidates = new List<int>();
        foreach (var s in states)
            foreach (var (row, ub) in s.Candidates)
                if (ub >= threshold) candidates.Add(row);
        if (candidates.Count > limit) return FullExactScan(q, k);

        // stage 2: exact float32 scores for the candidates only
        candidates.Sort();
        var scores = new float[candidates.Count];
        ScoreRows(q, candidates.ToArray(), scores);
        var top = new TopKSelector(k);
        for (int i = 0; i < scores.Length; i++) top.Offer(new ScoredId(ids[candidates[i]], scores[i]));
        LastScan = new ScanStatistics(Count, candidates.Count, false, Path.ToString());
        return top.Sorted();
    }

    /// <summary>Top-k for several queries (one after another; each query already uses every core).</summary>
    public IReadOnlyList<IReadOnlyList<ScoredId>> TopK(IReadOnlyList<float[]> queries, int k)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1");
        for (int i = 0; i < queries.Count; i++)
            if (queries[i].Length != Dimension) throw new ArgumentException($"query {i} has {queries[i].Length} values, expected {Dimension}");
        return queries.Select(q => TopK(q, k)).ToList();
    }

    /// <summary>Copies row <paramref name="row"/> out (for tests and duplicate reports).</summary>
    public float[] Row(int row) => RowSpan(row).ToArray();

    internal ReadOnlySpan<float> RowSpan(int row)
    {
        if ((uint)row >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(row));
        var (block, offset) = Locate(row);
        return new ReadOnlySpan<float>(block.Floats.Pointer + (long)offset * Dimension, Dimension);
    }

    internal long IdAt(long row) => ids[row];

    // ------------------------------------------------------------------ stage 1

    sealed class ScanState(int k)
    {
        public readonly LowerBoundHeap Heap = new(k);
        public readonly List<(int Row, double Upper)> Candidates = [];
        public readonly int[] Dots = new int[KernelRows];
        public int PruneAt = 1024;
    }

    /// <summary>Scans every row's int8 codes; null when some worker's candidates outgrew <paramref name="limit"/>.</summary>
    List<ScanState>? Scan(QueryCode q, int k, int limit)
    {
        int chunks = (Count + ChunkRows - 1) / ChunkRows;
        var states = new List<ScanState>();
        bool overflow = false;
        if (chunks <= 1)
        {
            var s = new ScanState(k);
            overflow = !ScanRows(0, Count, q, s, limit);
            states.Add(s);
        }
        else
        {
            var options = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount };
            Parallel.For(0, chunks, options, () => new ScanState(k), (c, loop, s) =>
            {
                if (!ScanRows(c * ChunkRows, Math.Min(Count, (c + 1) * ChunkRows), q, s, limit)) loop.Stop();
                return s;
            }, s => { lock (states) states.Add(s); });
            overflow = states.Any(s => s.Candidates.Count > limit);
        }
        return overflow ? null : states;
    }

    /// <summary>Rows [start, end) into one worker's state; false if its candidate list cannot be kept under the limit.</summary>
    bool ScanRows(int start, int end, QueryCode q, ScanState s, int limit)
    {
        double t = q.Scale, a = q.A, b = q.B;
        var heap = s.Heap;
        double threshold = heap.Threshold;
        fixed (int* dots = s.Dots)
        fixed (RowCode* rowCodes = codes)
        {
            int row = start;
            while (row < end)
            {
                var (block, offset) = Locate(row);
                int n = Math.Min(Math.Min(end - row, block.Capacity - offset), KernelRows);
                QuantizedDot.Rows(Path, block.Codes.Pointer + (long)offset * Width, Width, n, q.Codes.Pointer, Width, dots);
                for (int i = 0; i < n; i++)
                {
                    var (lower, upper) = Interval(dots[i], rowCodes[row + i], t, a, b);
                    if (lower > threshold)
                    {
                        heap.Offer(lower);
                        threshold = heap.Threshold;
                    }
                    if (upper >= threshold) s.Candidates.Add((row + i, upper));
                }
                row += n;
                if (s.Candidates.Count > s.PruneAt)
                {
                    s.Candidates.RemoveAll(c => c.Upper < threshold);
                    if (s.Candidates.Count > limit) return false;
                    s.PruneAt = Math.Max(1024, 2 * s.Candidates.Count);
                }
            }
        }
        return true;
    }

    /// <summary>[a_i − E_i, a_i + E_i] ∋ the exact score, from the row's integer dot product (see <see cref="QueryCode"/>).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    static (double Lower, double Upper) Interval(int dot, in RowCode rc, double t, double a, double b)
    {
        double estimate = dot * (rc.Scale * t);                  // s_i·t is exact in double; one rounding here
        double error = a * rc.Error + b * rc.Norm + QueryCode.Tiny;
        return (estimate - error, estimate + error);
    }

    /// <summary>Every row's first-stage interval for a query, in row order (tests check the bound with it).</summary>
    internal (double[] Lower, double[] Upper) Intervals(ReadOnlySpan<float> query)
    {
        var q = new QueryCode(query, Width);
        var lower = new double[Count];
        var upper = new double[Count];
        var dots = new int[1];
        fixed (int* dot = dots)
            for (int row = 0; row < Count; row++)
            {
                var (block, offset) = Locate(row);
                QuantizedDot.Rows(Path, block.Codes.Pointer + (long)offset * Width, Width, 1, q.Codes.Pointer, Width, dot);
                (lower[row], upper[row]) = Interval(dots[0], codes[row], q.Scale, q.A, q.B);
            }
        return (lower, upper);
    }

    // ------------------------------------------------------------------ stage 2 and the fallback

    /// <summary>Exact scores (<see cref="ExactDot"/>) of the given rows, in parallel when there are many.</summary>
    void ScoreRows(QueryCode q, int[] rows, float[] scores)
    {
        const int Grain = 4096;
        if (rows.Length <= Grain) { ScoreRange(q, rows, scores, 0, rows.Length); return; }
        var options = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount };
        Parallel.For(0, (rows.Length + Grain - 1) / Grain, options, c => ScoreRange(q, rows, scores, c * Grain, Math.Min(rows.Length, (c + 1) * Grain)));
    }

    void ScoreRange(QueryCode q, int[] rows, float[] scores, int start, int end)
    {
        float* query = q.Values.Pointer;
        int i = start;
        if (Path >= ScanPath.Avx2)
        {
            var current = stackalloc float*[8];
            var next = stackalloc float*[8];
            for (int r = 0; r < 8 && i + r < end; r++) next[r] = RowPointer(rows[i + r]);
            for (; i + 8 <= end; i += 8)
            {
                for (int r = 0; r < 8; r++)
                {
                    current[r] = next[r];
                    next[r] = RowPointer(rows[Math.Min(i + 8 + r, end - 1)]);
                }
                ExactDot.Score8Avx(current, next, query, Dimension, scores.AsSpan(i, 8));
            }
        }
        for (; i + 4 <= end; i += 4)
            ExactDot.Score4(RowPointer(rows[i]), RowPointer(rows[i + 1]), RowPointer(rows[i + 2]), RowPointer(rows[i + 3]), query, Dimension, scores.AsSpan(i, 4));
        for (; i < end; i++) scores[i] = ExactDot.Score(RowPointer(rows[i]), query, Dimension);
    }

    /// <summary>Scores every row exactly: for k ≥ Count, or when the bound rules out too few rows.</summary>
    List<ScoredId> FullExactScan(QueryCode q, int k)
    {
        var rows = new int[Count];
        for (int i = 0; i < rows.Length; i++) rows[i] = i;
        var scores = new float[Count];
        ScoreRows(q, rows, scores);
        var top = new TopKSelector(Math.Min(k, Count));
        for (int i = 0; i < scores.Length; i++) top.Offer(new ScoredId(ids[i], scores[i]));
        LastScan = new ScanStatistics(Count, Count, true, Path.ToString());
        return top.Sorted();
    }

    // ------------------------------------------------------------------ storage

    float* RowPointer(int row)
    {
        var (block, offset) = Locate(row);
        return block.Floats.Pointer + (long)offset * Dimension;
    }

    (RowBlock Block, int Offset) Locate(int row) => (blocks[row / BlockRows], row % BlockRows);

    /// <summary>Grows the block list so <paramref name="rows"/> rows fit; the last block doubles up to <see cref="BlockRows"/>.</summary>
    void EnsureCapacity(int rows)
    {
        int needBlocks = (rows + BlockRows - 1) / BlockRows;
        for (int b = 0; b < needBlocks; b++)
        {
            int needRows = Math.Min(BlockRows, rows - b * BlockRows);
            if (b < blocks.Count)
            {
                var old = blocks[b];
                if (old.Capacity >= needRows) continue;
                var bigger = new RowBlock((int)Math.Min(BlockRows, Math.Max(needRows, 2L * old.Capacity)), Dimension, Width);
                int used = Math.Min(old.Capacity, Count - b * BlockRows);
                Buffer.MemoryCopy(old.Floats.Pointer, bigger.Floats.Pointer, bigger.Floats.Bytes, (long)used * Dimension * 4);
                Buffer.MemoryCopy(old.Codes.Pointer, bigger.Codes.Pointer, bigger.Codes.Bytes, (long)used * Width);
                blocks[b] = bigger;
            }
            else
                // only the first block grows by doubling (small indexes stay small); once an index has filled one
                // block, later blocks are allocated whole: no copies, and untouched pages cost no physical memory
                blocks.Add(new RowBlock(b == 0 ? Math.Min(BlockRows, Math.Max(MinBlockCapacity, NextPow2(needRows))) : BlockRows, Dimension, Width));
        }
    }

    static int NextPow2(int x)
    {
        int p = 1;
        while (p < x) p <<= 1;
        return p;
    }

    /// <summary>Releases the rows (managed memory; nothing native is held).</summary>
    public void Dispose() => Clear();
}
