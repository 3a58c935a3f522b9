using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SharpClip.Modeling;

namespace SharpClip.Managed;

/// <summary>
/// <c>y = act(x·W + b)</c> or <c>y += x·W + b</c> in float32 with AVX-512: the one matrix product the managed engine
/// runs, with the bias, the activation and the residual sum done while the result is still in registers.
/// </summary>
/// <remarks>
/// <para>Why our own: ONNX Runtime's MLAS multiplies at ≈ 390 GFLOP/s on this project's 2-core Zen 5 (92 % of the
/// 426 measured peak) but its bias add is a separate pass over the output (≈ 350 GFLOP/s as a Gemm); in the ViT-B/32
/// graph at batch 8 its Gemms ran at ≈ 320 GFLOP/s and the LayerNorms, activations, residual sums and attention
/// reshuffles between them took 16 % of the kernel time (<c>bench … onnx-profile</c>). This kernel multiplies at
/// MLAS's rate and leaves no separate pass for the bias, activation or residual sum.</para>
/// <para>The micro-kernel keeps a 12×32 tile of the output in 24 of the 32 vector registers and, per step along the
/// inner dimension, reads two vectors of a packed weight panel and broadcasts 12 values of <c>x</c> (read in place,
/// row-major, no packing: measured as fast as packed for these sizes). Rows left over at the end run as tiles of 8
/// or 4 rows; columns are processed in panels of 32, and threads take disjoint ranges of panels, so no two threads
/// write the same output and the sums are the same whatever the thread count.</para>
/// </remarks>
[SkipLocalsInit]
internal static unsafe class MatrixKernel
{
    /// <summary>Output columns per weight panel: two 16-float vectors.</summary>
    public const int PanelWidth = 32;

    /// <summary>
    /// The most inner-dimension rows per block (a matrix splits its inner dimension into equal blocks of at most this
    /// many: <see cref="PackedMatrix.BlockDepth"/>). Each block's sums make one pass through the output, so fewer is
    /// better while a 32-column panel block (48 KiB at 384) still sits in L1/L2. Measured on ViT-B/32 (median of 9,
    /// 3 alternations): 384 ran batch 1 in 27–28 ms against 30–31 ms at 256; 512 was no better than 256.
    /// </summary>
    public const int MaxDepthBlock = 384;

    /// <summary>Rows of <c>x</c> run against one panel before the next panel: their 12 KiB per tile stay in L2.</summary>
    const int RowBlock = 144;

    /// <summary>Rows whose outputs all inner blocks update before the next rows start: for a tall input (a batch of 64
    /// captions is 4,928 rows) the outputs of the rows in hand stay in cache between blocks instead of making a round
    /// trip to memory per block (measured on those 4,928 rows: the 2,048-deep product 289 against 249-277 GFLOP/s, the
    /// 512-deep ones 347-360 against 312-352; up to 576 rows nothing changes).</summary>
    const int SuperBlock = 576;

    /// <summary>Rows of the largest tile: 12×2 accumulators, two weight vectors and a broadcast fill 27 of 32 registers.</summary>
    const int TileRows = 12;

    /// <summary>True when this CPU has the AVX-512 instructions the kernel is written in.</summary>
    public static bool IsSupported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>
    /// Output columns [<paramref name="columnStart"/>, <paramref name="columnEnd"/>) of <c>x·W + b</c>, written to
    /// <paramref name="y"/> (which points at column <paramref name="columnStart"/> of row 0), added to what
    /// <paramref name="y"/> holds when <paramref name="accumulate"/> (a residual sum), else passed through
    /// <paramref name="activation"/>. <paramref name="columnStart"/> must be a multiple of <see cref="PanelWidth"/>.
    /// </summary>
    // x: [rows, inner] with row stride ldx; y: [rows, columnEnd-columnStart] with row stride ldy
    public static void Multiply(float* x, int rows, int ldx, PackedMatrix w, float* y, int ldy, int columnStart, int columnEnd,
        bool accumulate, Activation? activation, int threads)
    {
        if (columnStart % PanelWidth != 0) throw new ArgumentException($"column start {columnStart} is not a multiple of {PanelWidth}", nameof(columnStart));
        if (rows == 0 || columnEnd <= columnStart) return;
        if (accumulate && activation is not null) throw new ArgumentException("a residual sum takes no activation", nameof(activation));
        int firstPanel = columnStart / PanelWidth, panels = (columnEnd - columnStart + PanelWidth - 1) / PanelWidth;
        int parts = Math.Min(Math.Max(threads, 1), panels);
        var act = activation switch { null => Act.None, Activation.QuickGelu => Act.QuickGelu, Activation.Gelu => Act.Gelu,
            _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation") };
        if (parts == 1)
        {
            Panels(x, rows, ldx, w, y, ldy, columnStart, columnEnd, firstPanel, firstPanel + panels, accumulate, act);
            return;
        }
        nint xs = (nint)x, ys = (nint)y;
        WorkerTeam.Run(parts, part =>
        {
            int from = firstPanel + (int)((long)panels * part / parts), to = firstPanel + (int)((long)panels * (part + 1) / parts);
            Panels((float*)xs, rows, ldx, w, (float*)ys, ldy, columnStart, columnEnd, from, to, accumulate, act);
        });
    }

    enum Act : byte { None, QuickGelu, Gelu }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Panels(float* x, int rows, int ldx, PackedMatrix w, float* y, int ldy, int columnStart, int columnEnd,
        int panelFrom, int panelTo, bool accumulate, Act act)
    {
        int inner = w.Inner;
        float* sums = stackalloc float[TileRows * PanelWidth];                  // one tile's sums, finished from here
        int block = w.BlockDepth;
        float* edge = stackalloc float[TileRows * MaxDepthBlock];              // the last, partial tile's rows of x
        nint xStride = (nint)ldx * sizeof(float);
        for (int s0 = 0; s0 < rows; s0 += SuperBlock)
        for (int k0 = 0; k0 < inner; k0 += block)
        {
            int depth = Math.Min(block, inner - k0);
            bool first = k0 == 0, last = k0 + depth == inner;
            var finish = new Finish(accumulate || !first, last, last ? act : Act.None);
            for (int r0 = s0; r0 < Math.Min(rows, s0 + SuperBlock); r0 += RowBlock)
            {
                int rowEnd = Math.Min(Math.Min(rows, s0 + SuperBlock), r0 + RowBlock);
                // The row block's tiles: 12 rows while they last, then 8 if 8 are left, then one last tile of 8 or 4
                // for the 1-7 rows still left, read from a zero-padded copy when those rows do not fill it.
                int twelves = r0 + (rowEnd - r0) / TileRows * TileRows;
                int eight = rowEnd - twelves >= 8 ? 8 : 0;
                int lastStart = twelves + eight, lastValid = rowEnd - lastStart, lastRows = lastValid > 4 ? 8 : 4;
                bool padded = lastValid > 0 && lastValid < lastRows;
                float* last0 = x + (long)lastStart * ldx + k0;
                nint lastStride = (nint)ldx * sizeof(float);
                if (padded)
                {
                    new Span<float>(edge, TileRows * block).Clear();
                    for (int r = 0; r < lastValid; r++)
                        new Span<float>(x + (long)(lastStart + r) * ldx + k0, depth).CopyTo(new Span<float>(edge + r * block, depth));
                    last0 = edge;
                    lastStride = (nint)block * sizeof(float);
                }
                for (int p = panelFrom; p < panelTo; p++)
                {
                    int j0 = p * PanelWidth, columns = Math.Min(PanelWidth, columnEnd - j0);
                    float* panel = w.Panel(k0, j0), bias = w.Bias + j0, c = y + (j0 - columnStart);
                    // The first tile of a panel reads it from memory; it also asks for the next panel, so that one
                    // arrives while this panel's other tiles run (the later tiles re-ask for their own, already cached).
                    float* ahead = p + 1 < panelTo ? w.Panel(k0, j0 + PanelWidth) : panel;
                    for (int r = r0; r < twelves; r += TileRows)
                    {
                        Tile<Rows12>(x + (long)r * ldx + k0, xStride, panel, depth, sums, ahead);
                        ahead = panel;
                        FinishTile(sums, TileRows, c + (long)r * ldy, ldy, columns, bias, finish);
                    }
                    if (eight > 0)
                    {
                        Tile<Rows8>(x + (long)twelves * ldx + k0, xStride, panel, depth, sums, ahead);
                        ahead = panel;
                        FinishTile(sums, 8, c + (long)twelves * ldy, ldy, columns, bias, finish);
                    }
                    if (lastValid > 0)
                    {
                        if (lastRows == 8) Tile<Rows8>(last0, lastStride, panel, depth, sums, ahead);
                        else Tile<Rows4>(last0, lastStride, panel, depth, sums, ahead);
                        FinishTile(sums, lastValid, c + (long)lastStart * ldy, ldy, columns, bias, finish);
                    }
                }
            }
        }
    }

    /// <summary>
    /// One tile of a small product whose right-hand side the caller packed itself (attention's keys and values):
    /// <paramref name="sums"/> [12][32] = rows 0 … <paramref name="rows"/>−1 of <paramref name="a"/> times the
    /// [<paramref name="depth"/>][32] panel. The tile run has 12, 8 or 4 rows, so <paramref name="a"/> must have
    /// readable rows up to <paramref name="rows"/> rounded up to a multiple of 4.
    /// </summary>
    public static void TileProduct(float* a, int lda, int rows, float* panel, int depth, float* sums)
    {
        nint stride = (nint)lda * sizeof(float);
        if (rows > 8) Tile<Rows12>(a, stride, panel, depth, sums, panel);
        else if (rows > 4) Tile<Rows8>(a, stride, panel, depth, sums, panel);
        else Tile<Rows4>(a, stride, panel, depth, sums, panel);
    }

    /// <summary>What happens to a tile's sums: added to the output's values (a later block, or a residual), then on the
    /// last block the bias and the activation.</summary>
    readonly record struct Finish(bool Load, bool Last, Act Activation);

    interface ITileRows { static abstract int Count { get; } }
    struct Rows12 : ITileRows { public static int Count => 12; }
    struct Rows8 : ITileRows { public static int Count => 8; }
    struct Rows4 : ITileRows { public static int Count => 4; }

    /// <summary>
    /// The micro-kernel: a [rows, 32] tile of sums over <paramref name="depth"/> inner indices, written to
    /// <paramref name="sums"/> [12][32]. Nothing but loads, broadcasts and fused multiply-adds: any call or branch on the
    /// sums after the loop would make the JIT keep the accumulators on the stack inside it (measured: 4× slower).
    /// </summary>
    // a: TRows rows of x (stride in bytes), from the block's first inner index; b: the panel, [depth][32]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile<TRows>(float* a, nint stride, float* b, int depth, float* sums, float* ahead) where TRows : struct, ITileRows
    {
        byte* r0 = (byte*)a, r3 = r0 + 3 * stride, r6 = r0 + 6 * stride, r9 = r0 + 9 * stride;
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default,
            c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;
        for (int p = 0; p < depth; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            b += PanelWidth;
            Sse.Prefetch1(ahead);
            Sse.Prefetch1(ahead + 16);
            ahead += PanelWidth;
            Vector512<float> s;
            s = Vector512.Create(*(float*)r0); c00 = Avx512F.FusedMultiplyAdd(s, b0, c00); c01 = Avx512F.FusedMultiplyAdd(s, b1, c01);
            s = Vector512.Create(*(float*)(r0 + stride)); c10 = Avx512F.FusedMultiplyAdd(s, b0, c10); c11 = Avx512F.FusedMultiplyAdd(s, b1, c11);
            s = Vector512.Create(*(float*)(r0 + 2 * stride)); c20 = Avx512F.FusedMultiplyAdd(s, b0, c20); c21 = Avx512F.FusedMultiplyAdd(s, b1, c21);
            s = Vector512.Create(*(float*)r3); c30 = Avx512F.FusedMultiplyAdd(s, b0, c30); c31 = Avx512F.FusedMultiplyAdd(s, b1, c31);
            if (TRows.Count > 4)
            {
                s = Vector512.Create(*(float*)(r3 + stride)); c40 = Avx512F.FusedMultiplyAdd(s, b0, c40); c41 = Avx512F.FusedMultiplyAdd(s, b1, c41);
                s = Vector512.Create(*(float*)(r3 + 2 * stride)); c50 = Avx512F.FusedMultiplyAdd(s, b0, c50); c51 = Avx512F.FusedMultiplyAdd(s, b1, c51);
                s = Vector512.Create(*(float*)r6); c60 = Avx512F.FusedMultiplyAdd(s, b0, c60); c61 = Avx512F.FusedMultiplyAdd(s, b1, c61);
                s = Vector512.Create(*(float*)(r6 + stride)); c70 = Avx512F.FusedMultiplyAdd(s, b0, c70); c71 = Avx512F.FusedMultiplyAdd(s, b1, c71);
            }
            if (TRows.Count > 8)
            {
                s = Vector512.Create(*(float*)(r6 + 2 * stride)); c80 = Avx512F.FusedMultiplyAdd(s, b0, c80); c81 = Avx512F.FusedMultiplyAdd(s, b1, c81);
                s = Vector512.Create(*(float*)r9); c90 = Avx512F.FusedMultiplyAdd(s, b0, c90); c91 = Avx512F.FusedMultiplyAdd(s, b1, c91);
                s = Vector512.Create(*(float*)(r9 + stride)); ca0 = Avx512F.FusedMultiplyAdd(s, b0, ca0); ca1 = Avx512F.FusedMultiplyAdd(s, b1, ca1);
                s = Vector512.Create(*(float*)(r9 + 2 * stride)); cb0 = Avx512F.FusedMultiplyAdd(s, b0, cb0); cb1 = Avx512F.FusedMultiplyAdd(s, b1, cb1);
            }
            r0 += sizeof(float); r3 += sizeof(float); r6 += sizeof(float); r9 += sizeof(float);
        }
        c00.Store(sums); c01.Store(sums + 16); c10.Store(sums + 32); c11.Store(sums + 48);
        c20.Store(sums + 64); c21.Store(sums + 80); c30.Store(sums + 96); c31.Store(sums + 112);
        if (TRows.Count > 4)
        {
            c40.Store(sums + 128); c41.Store(sums + 144); c50.Store(sums + 160); c51.Store(sums + 176);
            c60.Store(sums + 192); c61.Store(sums + 208); c70.Store(sums + 224); c71.Store(sums + 240);
        }
        if (TRows.Count > 8)
        {
            c80.Store(sums + 256); c81.Store(sums + 272); c90.Store(sums + 288); c91.Store(sums + 304);
            ca0.Store(sums + 320); ca1.Store(sums + 336); cb0.Store(sums + 352); cb1.Store(sums + 368);
        }
    }

    /// <summary>A tile's sums into the output: plus what it holds (a later block, a residual), plus the bias and through
    /// the activation on the last block; a last panel narrower than 32 columns goes through a row buffer so nothing past
    /// the output's width is touched.</summary>
    // sums: [12][32]; c: the tile's first output element
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void FinishTile(float* sums, int rows, float* c, int ldc, int columns, float* bias, Finish finish)
    {
        float* staged = stackalloc float[PanelWidth];
        var bias0 = Vector512.Load(bias);
        var bias1 = Vector512.Load(bias + 16);
        bool narrow = columns < PanelWidth;
        for (int r = 0; r < rows; r++)
        {
            float* q = c + (long)r * ldc;
            float* target = narrow ? staged : q;
            if (narrow && finish.Load) new Span<float>(q, columns).CopyTo(new Span<float>(staged, PanelWidth));
            var v0 = Vector512.Load(sums + r * PanelWidth);
            var v1 = Vector512.Load(sums + r * PanelWidth + 16);
            if (finish.Load)
            {
                v0 += Vector512.Load(target);
                v1 += Vector512.Load(target + 16);
            }
            if (finish.Last)
            {
                v0 = Activate(v0 + bias0, finish.Activation);
                v1 = Activate(v1 + bias1, finish.Activation);
            }
            v0.Store(target);
            v1.Store(target + 16);
            if (narrow) new Span<float>(staged, columns).CopyTo(new Span<float>(q, columns));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Activate(Vector512<float> v, Act act) => act switch
    {
        Act.QuickGelu => VectorMath.QuickGelu(v),
        Act.Gelu => VectorMath.Gelu(v),
        _ => v,
    };
}
