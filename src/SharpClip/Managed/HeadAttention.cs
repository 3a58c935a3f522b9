using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpClip.Managed;

/// <summary>
/// Multi-head attention after the projections: per sequence and head, <c>softmax(q·kᵀ/√d + mask)·v</c>, the heads'
/// outputs written side by side (merged) as <see cref="Modeling.SelfAttention"/> hands them to its output projection.
/// </summary>
/// <remarks>
/// Both products of a head run on <see cref="MatrixKernel"/>'s tile: the keys are copied into panels of 32 (zero keys
/// padding the last), so 12 queries' scores against 32 keys are one tile, and the values likewise for
/// probabilities·values. Padded keys (and, causally, keys after the query) get −∞ before the softmax, so they weigh
/// exactly zero; a causal tile of queries computes scores and sums only up to its last query's key panel (the text
/// tower's early tokens see few keys). Sequences × heads are claimed by the threads (<see cref="WorkerTeam.Share"/>). (A first version summed each score in one dependent chain
/// of multiply-adds and took 2 ms per ViT-B/32 layer at batch 8, more than all of ONNX Runtime's attention.)
/// </remarks>
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
        int queries = (l.QueriesPerSequence + 3) / 4 * 4;                    // query rows padded for the 4-row tile
        int valuePanels = (headWidth + W - 1) / W;
        // Scratch of this thread: scaled queries [queries][head_width], keys as panels [keys/32][head_width][32],
        // values as panels [value_panels][keys][32], probabilities [queries][keys], one tile's sums [12][32].
        using var scratch = AlignedBuffer.Scratch((long)queries * headWidth + (long)keys * headWidth + (long)valuePanels * keys * W
                                              + (long)queries * keys + 12 * W);
        float* q = scratch.Data, keyPanels = q + (long)queries * headWidth, valuePanelsData = keyPanels + (long)keys * headWidth,
            p = valuePanelsData + (long)valuePanels * keys * W, sums = p + (long)queries * keys;
        new Span<float>(q, queries * headWidth).Clear();
        float scale = 1f / MathF.Sqrt(headWidth);
        for (int item = from; item < to; item++)
        {
            int sequence = item / heads, offset = item % heads * headWidth;
            PackKeys(l, sequence, offset, headWidth, keys, keyPanels);
            PackValues(l, sequence, offset, headWidth, keys, valuePanelsData);
            for (int i = 0; i < l.QueriesPerSequence; i++)
            {
                float* row = l.Queries + ((long)sequence * l.QueriesPerSequence + i) * l.QueryStride + offset;
                for (int d = 0; d < headWidth; d++) q[i * headWidth + d] = row[d] * scale;
            }
            // scores = q·kᵀ, 12 queries × 32 keys per tile; causally, only the key panels the tile's last query sees
            for (int i = 0; i < l.QueriesPerSequence; i += 12)
            {
                int rows = Math.Min(12, l.QueriesPerSequence - i), seen = SeenKeys(l, sequence, i + rows - 1, W);
                for (int k = 0; k < seen; k += W)
                {
                    MatrixKernel.TileProduct(q + i * headWidth, headWidth, rows, keyPanels + (long)k * headWidth, headWidth, sums);
                    for (int r = 0; r < rows; r++) RowOps.Copy(sums + r * W, p + (long)(i + r) * keys + k, W);
                }
                for (int r = 0; r < rows; r++) Softmax(p + (long)(i + r) * keys, Visible(l, sequence, i + r), seen);
            }
            // out = p·v over the keys the tile's queries see (probabilities past a query's visible keys are exact zeros,
            // and the ones past the tile's are never read: the same sums), 12 queries × 32 value columns per tile
            for (int i = 0; i < l.QueriesPerSequence; i += 12)
            {
                int rows = Math.Min(12, l.QueriesPerSequence - i), seen = SeenKeys(l, sequence, i + rows - 1, W);
                for (int c = 0; c < valuePanels; c++)
                {
                    MatrixKernel.TileProduct(p + (long)i * keys, keys, rows, valuePanelsData + (long)c * keys * W, seen, sums);
                    int columns = Math.Min(W, headWidth - c * W);
                    for (int r = 0; r < rows; r++)
                        RowOps.Copy(sums + r * W, l.Output + ((long)sequence * l.QueriesPerSequence + i + r) * l.OutputStride + offset + c * W, columns);
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
        for (int k0 = 0; k0 < keys; k0 += W)
        {
            float* panel = keyPanels + (long)k0 * headWidth;
            for (int kk = 0; kk < W; kk++)
            {
                int k = k0 + kk;
                if (k >= l.Tokens) { for (int d = 0; d < headWidth; d++) panel[d * W + kk] = 0; continue; }
                float* key = l.Keys + ((long)sequence * l.Tokens + k) * l.KeyStride + offset;
                for (int d = 0; d < headWidth; d++) panel[d * W + kk] = key[d];
            }
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
