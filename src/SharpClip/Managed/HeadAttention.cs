using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpClip.Managed;

/// <summary>
/// Multi-head attention after the projections: per sequence and head, <c>softmax(q·kᵀ/√d + mask)·v</c>, the heads'
/// outputs written side by side (merged) as <see cref="Modeling.SelfAttention"/> hands them to its output projection.
/// </summary>
/// <remarks>
/// Both products of a head run on <see cref="MatrixKernel"/>'s tile: the keys are copied into panels of 32 (zero keys
/// padding the last), so up to 12 queries' scores against 32 keys are one tile, and the values likewise for
/// probabilities·values, each tile written straight into the probability rows or the output. Padded keys (and,
/// causally, keys after the query) get −∞ before the softmax, so they weigh exactly zero; a causal tile of queries
/// computes scores and sums only up to its last query's keys (the text tower's early tokens see few keys). Sequences ×
/// heads are claimed by the threads (<see cref="WorkerTeam.Share"/>). (A first version summed each score in one
/// dependent chain of multiply-adds and took 2 ms per ViT-B/32 layer at batch 8, more than all of ONNX Runtime's
/// attention.)
/// </remarks>
// No zeroing of stack memory: the key transpose's 1 KiB blocks are written before they are read.
[SkipLocalsInit]
internal static unsafe class HeadAttention
{
    /// <summary>The layout of one attention call: where queries, keys, values and outputs are, and which keys each query sees.</summary>
    // queries: queriesPerSequence rows per sequence, heads side by side; keys, values: tokens rows per sequence;
    // output: one row per query, heads merged; every matrix has its own row stride.
    // queryPositions: for one query per sequence (a pooled row), its token position in each sequence (what a causal
    // mask compares against); null when every token is a query, in order.
    public readonly struct Layout(
        float* queries, int queryStride, float* keys, int keyStride, float* values, int valueStride, float* output, int outputStride,
        int sequences, int tokens, int queriesPerSequence, int* queryPositions, bool causal)
    {
        public readonly float* Queries = queries, Keys = keys, Values = values, Output = output;
        public readonly int QueryStride = queryStride, KeyStride = keyStride, ValueStride = valueStride, OutputStride = outputStride;
        public readonly int Sequences = sequences, Tokens = tokens, QueriesPerSequence = queriesPerSequence;
        public readonly int* QueryPositions = queryPositions;
        public readonly bool Causal = causal;
    }

    /// <summary>Below this many scores (a pooled row's attention at batch 1 is a few hundred) splitting across threads
    /// costs more than it saves.</summary>
    const long SerialScores = 4096;

    /// <summary>Runs attention over every sequence and head of <paramref name="layout"/>.</summary>
    public static void Run(in Layout layout, int heads, int headWidth, int threads)
    {
        int items = layout.Sequences * heads;
        int parts = Math.Min(Math.Max(threads, 1), items);
        var copy = layout;
        if (parts == 1 || (long)items * layout.Tokens * layout.QueriesPerSequence < SerialScores)
        {
            Range(copy, heads, headWidth, 0, items);
            return;
        }
        WorkerTeam.Share(items, parts, 1, (from, to) => Range(copy, heads, headWidth, from, to));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Range(in Layout l, int heads, int headWidth, int from, int to)
    {
        const int W = MatrixKernel.PanelWidth;
        int keys = (l.Tokens + W - 1) / W * W;                               // keys padded to whole panels (zero keys)
        int queries = l.QueriesPerSequence, tiles = MatrixKernel.Tiles(queries);  // query tiles as the products cut rows (50: …, 7, 7)
        int valuePanels = (headWidth + W - 1) / W;
        bool wholePanels = headWidth % W == 0;                                 // outputs written straight from the tiles
        // Scratch of this thread: scaled queries [queries][head_width], keys as panels [keys/32][head_width][32],
        // values as panels [value_panels][keys][32], probabilities [queries][keys], one tile's sums [12][32].
        using var scratch = AlignedBuffer.Scratch((long)queries * headWidth + (long)keys * headWidth + (long)valuePanels * keys * W
                                              + (long)queries * keys + 12 * W);
        float* q = scratch.Data, keyPanels = q + (long)queries * headWidth, valuePanelsData = keyPanels + (long)keys * headWidth,
            p = valuePanelsData + (long)valuePanels * keys * W, sums = p + (long)queries * keys;
        float scale = 1f / MathF.Sqrt(headWidth);
        for (int item = from; item < to; item++)
        {
            int sequence = item / heads, offset = item % heads * headWidth;
            PackKeys(l, sequence, offset, headWidth, keys, keyPanels);
            PackValues(l, sequence, offset, headWidth, keys, valuePanelsData);
            for (int i = 0; i < queries; i++)
                RowOps.Scale(l.Queries + ((long)sequence * queries + i) * l.QueryStride + offset, scale, q + i * headWidth, headWidth);
            // scores = q·kᵀ, up to 12 queries × 32 keys per tile straight into the probability rows; causally, only the key
            // panels the tile's last query sees
            for (int t = 0, i = 0; t < tiles; i += MatrixKernel.TileHeight(queries, tiles, t++))
            {
                int rows = MatrixKernel.TileHeight(queries, tiles, t), seen = SeenKeys(l, sequence, i + rows - 1, W);
                for (int k = 0; k < seen; k += W)
                    MatrixKernel.TileProduct(q + i * headWidth, headWidth, rows, keyPanels + (long)k * headWidth, headWidth, p + (long)i * keys + k, keys);
                for (int r = 0; r < rows; r++) Softmax(p + (long)(i + r) * keys, Visible(l, sequence, i + r), seen);
            }
            // out = p·v over the keys the tile's last query sees (a query's probabilities past its own visible keys are
            // exact zeros, so the sums are the same), up to 12 queries × 32 value columns per tile
            for (int t = 0, i = 0; t < tiles; i += MatrixKernel.TileHeight(queries, tiles, t++))
            {
                int rows = MatrixKernel.TileHeight(queries, tiles, t), visible = Visible(l, sequence, i + rows - 1);
                float* output = l.Output + ((long)sequence * queries + i) * l.OutputStride + offset;
                for (int c = 0; c < valuePanels; c++)
                {
                    float* values = valuePanelsData + (long)c * keys * W;
                    if (wholePanels)
                    {
                        MatrixKernel.TileProduct(p + (long)i * keys, keys, rows, values, visible, output + c * W, l.OutputStride);
                        continue;
                    }
                    MatrixKernel.TileProduct(p + (long)i * keys, keys, rows, values, visible, sums, W);
                    int columns = Math.Min(W, headWidth - c * W);
                    for (int r = 0; r < rows; r++) RowOps.Copy(sums + r * W, output + (long)r * l.OutputStride + c * W, columns);
                }
            }
        }
    }

    /// <summary>Keys query <paramref name="i"/> of <paramref name="sequence"/> sees: up to its own position when causal, else all.</summary>
    static int Visible(in Layout l, int sequence, int i)
    {
        if (!l.Causal) return l.Tokens;
        int position = l.QueryPositions is null ? i : l.QueryPositions[sequence];
        return position + 1;
    }

    /// <summary>The keys a tile whose last query is <paramref name="last"/> computes, in whole panels of <paramref name="width"/>:
    /// a causal tile of early queries skips the panels none of them sees.</summary>
    static int SeenKeys(in Layout l, int sequence, int last, int width) => (Visible(l, sequence, last) + width - 1) / width * width;

    // keyPanels[k/32][d][k%32] = key k's element d (zero for padded keys)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PackKeys(in Layout l, int sequence, int offset, int headWidth, int keys, float* keyPanels)
    {
        const int W = MatrixKernel.PanelWidth;
        float* first = l.Keys + (long)sequence * l.Tokens * l.KeyStride + offset;
        if (headWidth % 16 == 0 && Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
        {
            // 16 keys × 16 elements at a time, turned in registers (a scalar copy of every element was ≈ 1 % of ViT-B/32)
            var block = stackalloc Vector512<float>[16];
            for (int k0 = 0; k0 < keys; k0 += 16)
                for (int d0 = 0; d0 < headWidth; d0 += 16)
                {
                    for (int i = 0; i < 16; i++)
                        block[i] = k0 + i < l.Tokens ? Vector512.Load(first + (long)(k0 + i) * l.KeyStride + d0) : Vector512<float>.Zero;
                    Transpose16(block);
                    float* panel = keyPanels + (long)(k0 / W * W) * headWidth + k0 % W;
                    for (int j = 0; j < 16; j++) block[j].Store(panel + (d0 + j) * W);
                }
            return;
        }
        for (int k0 = 0; k0 < keys; k0 += W)
        {
            float* panel = keyPanels + (long)k0 * headWidth;
            for (int kk = 0; kk < W; kk++)
            {
                int k = k0 + kk;
                if (k >= l.Tokens) { for (int d = 0; d < headWidth; d++) panel[d * W + kk] = 0; continue; }
                float* key = first + (long)k * l.KeyStride;
                for (int d = 0; d < headWidth; d++) panel[d * W + kk] = key[d];
            }
        }
    }

    /// <summary>Transposes 16 rows of 16 floats in place: element j of row i becomes element i of row j (interleaves of
    /// 32-bit, then 64-bit pairs within each 128-bit lane, then two rounds of 128-bit lane shuffles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Transpose16(Vector512<float>* rows)
    {
        var t = stackalloc Vector512<float>[16];
        for (int i = 0; i < 16; i += 2)
        {
            t[i] = Avx512F.UnpackLow(rows[i], rows[i + 1]);
            t[i + 1] = Avx512F.UnpackHigh(rows[i], rows[i + 1]);
        }
        // u[4g + c], lane L: column 4L + c of rows 4g … 4g+3 (stored back into rows)
        for (int g = 0; g < 16; g += 4)
        {
            rows[g] = Avx512F.UnpackLow(t[g].AsDouble(), t[g + 2].AsDouble()).AsSingle();
            rows[g + 1] = Avx512F.UnpackHigh(t[g].AsDouble(), t[g + 2].AsDouble()).AsSingle();
            rows[g + 2] = Avx512F.UnpackLow(t[g + 1].AsDouble(), t[g + 3].AsDouble()).AsSingle();
            rows[g + 3] = Avx512F.UnpackHigh(t[g + 1].AsDouble(), t[g + 3].AsDouble()).AsSingle();
        }
        for (int k = 0; k < 4; k++)
        {
            t[k] = Avx512F.Shuffle4x128(rows[k], rows[k + 4], 0x88);
            t[k + 4] = Avx512F.Shuffle4x128(rows[k], rows[k + 4], 0xDD);
            t[k + 8] = Avx512F.Shuffle4x128(rows[k + 8], rows[k + 12], 0x88);
            t[k + 12] = Avx512F.Shuffle4x128(rows[k + 8], rows[k + 12], 0xDD);
        }
        for (int j = 0; j < 8; j++)
        {
            rows[j] = Avx512F.Shuffle4x128(t[j], t[j + 8], 0x88);
            rows[j + 8] = Avx512F.Shuffle4x128(t[j], t[j + 8], 0xDD);
        }
    }

    // valuePanels[c][k][j] = value k's element c·32+j (zero past the head width and for padded keys)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PackValues(in Layout l, int sequence, int offset, int headWidth, int keys, float* valuePanels)
    {
        const int W = MatrixKernel.PanelWidth;
        for (int c = 0; c < (headWidth + W - 1) / W; c++)
        {
            int columns = Math.Min(W, headWidth - c * W);
            float* panel = valuePanels + (long)c * keys * W;
            new Span<float>(panel, keys * W).Clear();
            for (int k = 0; k < l.Tokens; k++)
                RowOps.Copy(l.Values + ((long)sequence * l.Tokens + k) * l.ValueStride + offset + c * W, panel + (long)k * W, columns);
        }
    }

    // softmax over scores[0, visible); scores[visible, padded) become exact zeros
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Softmax(float* scores, int visible, int padded)
    {
        for (int j = visible; j < padded; j++) scores[j] = float.NegativeInfinity;
        var max = Vector512.Create(float.NegativeInfinity);
        for (int j = 0; j < padded; j += 16) max = Vector512.Max(max, Vector512.Load(scores + j));
        float m = float.NegativeInfinity;
        for (int k = 0; k < 16; k++) m = MathF.Max(m, max.GetElement(k));
        var top = Vector512.Create(m);
        var total = Vector512<float>.Zero;
        for (int j = 0; j < padded; j += 16)
        {
            var e = VectorMath.Exp(Vector512.Load(scores + j) - top);
            e.Store(scores + j);
            total += e;
        }
        var inverse = Vector512.Create(1f / Vector512.Sum(total));
        for (int j = 0; j < padded; j += 16) (Vector512.Load(scores + j) * inverse).Store(scores + j);
    }
}
