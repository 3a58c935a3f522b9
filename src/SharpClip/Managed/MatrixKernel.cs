using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SharpClip.Modeling;

namespace SharpClip.Managed;

/// <summary>
/// <c>y = act(x·W + b)</c> or <c>y = act(y + x·W + b)</c> in float32 with AVX-512 (or AVX2, see
/// <see cref="Tile256{TRows, TStart, TRelu}"/>): the one matrix product the managed engine runs, with the bias, the
/// activation and the residual sum done while the result is still in registers.
/// </summary>
/// <remarks>
/// <para>Why our own: ONNX Runtime's MLAS multiplies at ≈ 390 GFLOP/s on this project's 2-core Zen 5 (92 % of the
/// 426 measured peak) but its bias add is a separate pass over the output (≈ 350 GFLOP/s as a Gemm); in the ViT-B/32
/// graph at batch 8 its Gemms ran at ≈ 320 GFLOP/s and the LayerNorms, activations, residual sums and attention
/// reshuffles between them took 16 % of the kernel time (<c>bench … onnx-profile</c>). This kernel multiplies at
/// MLAS's rate and leaves no separate pass for the bias, activation or residual sum.</para>
/// <para>The micro-kernel keeps a 12×32 tile of the output in 24 of the 32 vector registers and, per step along the
/// inner dimension, reads two vectors of a packed weight panel and broadcasts 12 values of <c>x</c> (read in place,
/// row-major, no packing: measured as fast as packed for these sizes). A block of rows runs as tiles of 12 but for the
/// last two, which share what is left between them (50 rows: 12, 12, 12, 7, 7), so no tile is padded and none is
/// too short to keep the multiply-add units busy (a tile of 1-3 rows waits on its own sums). Columns are processed in
/// panels of 32, and threads claim disjoint ranges of panels (or of whole row blocks, when there are few panels and many
/// rows, see <see cref="WorkerTeam.Share"/>), so no two threads write the same output and the sums are the same
/// whatever the thread count. A whole tile starts from the bias (plus the residual) or the previous inner block's sums
/// and is stored straight to the output, a ReLU applied in registers; a GELU or a narrow last panel goes through a
/// staging tile.</para>
/// </remarks>
[SkipLocalsInit]
internal static unsafe partial class MatrixKernel
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

    /// <summary>Inner blocks up to this deep prefetch the next tile's rows (see <see cref="WholeTile{TRows}"/>).</summary>
    const int PrefetchDepth = 256;

    /// <summary>Rows whose outputs all inner blocks update before the next rows start: for a tall input (a batch of 64
    /// captions is 4,928 rows) the outputs of the rows in hand stay in cache between blocks instead of making a round
    /// trip to memory per block (measured on those 4,928 rows: the 2,048-deep product 289 against 249-277 GFLOP/s, the
    /// 512-deep ones 347-360 against 312-352; up to 576 rows nothing changes).</summary>
    const int SuperBlock = 576;

    /// <summary>Rows of the largest tile: 12×2 accumulators, two weight vectors and a broadcast fill 27 of 32 registers.</summary>
    const int TileRows = 12;

    /// <summary>True when this CPU has the instructions one of the micro-kernels is written in: AVX-512, or AVX2 with
    /// FMA (see <see cref="Width"/>).</summary>
    public static bool IsSupported => HasAvx512 || HasAvx2;

    /// <summary>True when the CPU has AVX-512 and the runtime uses it (<c>DOTNET_EnableAVX512=0</c> turns it off).</summary>
    public static bool HasAvx512 => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>True when the CPU has AVX2 and FMA, which the AVX2 kernel is written in.</summary>
    public static bool HasAvx2 => Fma.IsSupported && Avx2.IsSupported;

    static KernelWidth _width = HasAvx512 ? KernelWidth.Avx512 : KernelWidth.Avx2;

    /// <summary>
    /// Which micro-kernel the products run: AVX-512's where the CPU (and the runtime) has it, else AVX2's. Setting it
    /// to AVX2 on an AVX-512 CPU is for tests and the bench (the AVX2 kernel's sums and speed on this machine); every
    /// other op of the engine follows the runtime (<c>DOTNET_EnableAVX512=0</c> hides AVX-512 from all of it).
    /// </summary>
    public static KernelWidth Width
    {
        get => _width;
        set
        {
            if (value == KernelWidth.Avx512 && !HasAvx512)
                throw new PlatformNotSupportedException("the AVX-512 kernel needs AVX-512 (this CPU or runtime has none)");
            if (!Enum.IsDefined(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "unknown kernel width");
            _width = value;
        }
    }

    /// <summary>
    /// Output columns [<paramref name="columnStart"/>, <paramref name="columnEnd"/>) of <c>act(x·W + b)</c>, written to
    /// <paramref name="y"/> (which points at column <paramref name="columnStart"/> of row 0), or
    /// <c>act(y + x·W + b)</c> when <paramref name="accumulate"/> (a residual sum; a ResNet block's ReLU comes after it).
    /// <paramref name="columnStart"/> must be a multiple of <see cref="PanelWidth"/>.
    /// </summary>
    // x: [rows, inner] with row stride ldx; y: [rows, columnEnd-columnStart] with row stride ldy
    public static void Multiply(float* x, int rows, int ldx, PackedMatrix w, float* y, int ldy, int columnStart, int columnEnd,
        bool accumulate, OutputActivation activation, int threads)
    {
        if (columnStart % PanelWidth != 0) throw new ArgumentException($"column start {columnStart} is not a multiple of {PanelWidth}", nameof(columnStart));
        if (rows == 0 || columnEnd <= columnStart) return;
        if (!Enum.IsDefined(activation)) throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation");
        int firstPanel = columnStart / PanelWidth, panels = (columnEnd - columnStart + PanelWidth - 1) / PanelWidth;
        threads = Math.Max(threads, 1);
        nint xs = (nint)x, ys = (nint)y;
        if (threads > 1 && panels < 2 * threads && rows >= 2 * RowBlock * threads)
        {
            // Few panels and many rows (a ResNet's 64-channel 1×1 convolution over 3,136 pixels): threads take rows
            // instead, so each reads its rows of x once for all panels (with a panel each, both read all of x; that
            // shape alone on 2 threads of a busy machine: 0.13-0.17 ms against 0.19). Ranges start at whole row
            // blocks, so every row falls in the same tile as on one thread and the bits do not depend on the split.
            WorkerTeam.Share(rows, threads, RowBlock, (from, to) =>
                Panels((float*)xs + (long)from * ldx, to - from, ldx, w, (float*)ys + (long)from * ldy, ldy, columnStart, columnEnd,
                    firstPanel, firstPanel + panels, accumulate, activation));
            return;
        }
        if (threads == 1 || panels == 1)
        {
            Panels(x, rows, ldx, w, y, ldy, columnStart, columnEnd, firstPanel, firstPanel + panels, accumulate, activation);
            return;
        }
        // Threads take ranges of panels; each panel's sums are the same whoever computes them.
        WorkerTeam.Share(panels, threads, 1, (from, to) =>
            Panels((float*)xs, rows, ldx, w, (float*)ys, ldy, columnStart, columnEnd, firstPanel + from, firstPanel + to, accumulate, activation));
    }

    /// <summary>The same with a transformer's activation (none for a residual sum).</summary>
    public static void Multiply(float* x, int rows, int ldx, PackedMatrix w, float* y, int ldy, int columnStart, int columnEnd,
        bool accumulate, Activation? activation, int threads)
    {
        if (accumulate && activation is not null) throw new ArgumentException("a transformer's residual sum takes no activation", nameof(activation));
        var act = activation switch { null => OutputActivation.None, Activation.QuickGelu => OutputActivation.QuickGelu, Activation.Gelu => OutputActivation.Gelu,
            _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation") };
        Multiply(x, rows, ldx, w, y, ldy, columnStart, columnEnd, accumulate, act, threads);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Panels(float* x, int rows, int ldx, PackedMatrix w, float* y, int ldy, int columnStart, int columnEnd,
        int panelFrom, int panelTo, bool accumulate, OutputActivation act)
    {
        int inner = w.Inner;
        float* sums = stackalloc float[TileRows * PanelWidth];                  // one tile's sums, finished from here
        int block = w.BlockDepth;
        nint xStride = (nint)ldx * sizeof(float);
        for (int s0 = 0; s0 < rows; s0 += SuperBlock)
        for (int k0 = 0; k0 < inner; k0 += block)
        {
            int depth = Math.Min(block, inner - k0);
            bool first = k0 == 0, last = k0 + depth == inner;
            var finish = new Finish(accumulate || !first, last, last ? act : OutputActivation.None);
            var plan = new WholeTilePlan(first, last, accumulate, act);
            for (int r0 = s0; r0 < Math.Min(rows, s0 + SuperBlock); r0 += RowBlock)
            {
                int rowEnd = Math.Min(Math.Min(rows, s0 + SuperBlock), r0 + RowBlock);
                // The row block's tiles: 12 rows each but the last two, which share the rest (13-24 rows), so every
                // tile's rows are rows of x (no padded copy) and no tile has 1-3 rows that wait on their own sums
                // unless the block itself has no more. Measured against 12s and a padded tile of 4 or 8 (ViT-B/32's products, alternated three
                // times): 50 rows 2-6 % faster, 77 rows 3-5 %; spread evenly over all the tiles instead (50 rows:
                // five of 10), RN50's 64→256 1×1 convolution at batch 1 ran 9 % slower, so only the last two share.
                int count = rowEnd - r0, tiles = Tiles(count);
                for (int p = panelFrom; p < panelTo; p++)
                {
                    int j0 = p * PanelWidth, columns = Math.Min(PanelWidth, columnEnd - j0);
                    float* panel = w.Panel(k0, j0), bias = w.Bias + j0, c = y + (j0 - columnStart);
                    // The first tile of a panel reads it from memory; it also asks for the next panel, so that one
                    // arrives while this panel's other tiles run (the later tiles re-ask for their own, already cached).
                    float* ahead = p + 1 < panelTo ? w.Panel(k0, j0 + PanelWidth) : panel;
                    // A whole panel's tiles start from the bias (plus the residual) or an earlier block's sums and
                    // store straight into the output, ReLU included; only a GELU goes through the staging tile. A
                    // narrow last panel is staged so nothing past the output's width is read or written.
                    var tile = new TileArguments(xStride, panel, depth, ldy, columns, bias, sums, columns == PanelWidth, plan, finish);
                    for (int t = 0, r = r0; t < tiles; t++)
                    {
                        int height = TileHeight(count, tiles, t);
                        float* a = x + (long)r * ldx + k0, cr = c + (long)r * ldy;
                        if (height == TileRows) RunTile<Rows12>(a, cr, ahead, tile);        // the common case, inlined
                        else RunTile(height, a, cr, ahead, tile);
                        ahead = panel;
                        r += height;
                    }
                }
            }
        }
    }

    /// <summary>Tiles that <paramref name="rows"/> rows (at most a row block) run as: whole tiles of 12, the last two sharing the rest.</summary>
    public static int Tiles(int rows) => (rows + TileRows - 1) / TileRows;

    /// <summary>Rows of tile <paramref name="t"/> of the <paramref name="tiles"/> that <paramref name="rows"/> rows run as:
    /// 12, but the last two share what is left (13-24 rows; 50 rows: 12, 12, 12, 7, 7), so no tile is 1-3 rows that
    /// wait on their own sums when the rows could avoid it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TileHeight(int rows, int tiles, int t)
    {
        if (t < tiles - 2) return TileRows;
        if (tiles == 1) return rows;
        int lastTwo = rows - (tiles - 2) * TileRows;
        return t == tiles - 2 ? (lastTwo + 1) / 2 : lastTwo / 2;
    }

    /// <summary>What every tile of one panel and inner block shares.</summary>
    readonly struct TileArguments(nint xStride, float* panel, int depth, int ldy, int columns, float* bias, float* sums, bool whole,
        WholeTilePlan plan, Finish finish)
    {
        public readonly nint XStride = xStride;
        public readonly float* Panel = panel, Bias = bias, Sums = sums;
        public readonly int Depth = depth, Ldy = ldy, Columns = columns;
        public readonly bool Whole = whole;
        public readonly WholeTilePlan Plan = plan;
        public readonly Finish Finish = finish;
    }

    /// <summary>One tile of <paramref name="height"/> (1–12) rows at <paramref name="a"/> into <paramref name="c"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RunTile(int height, float* a, float* c, float* ahead, in TileArguments t)
    {
        switch (height)
        {
            case 12: RunTile<Rows12>(a, c, ahead, t); break;
            case 11: RunTile<Rows11>(a, c, ahead, t); break;
            case 10: RunTile<Rows10>(a, c, ahead, t); break;
            case 9: RunTile<Rows9>(a, c, ahead, t); break;
            case 8: RunTile<Rows8>(a, c, ahead, t); break;
            case 7: RunTile<Rows7>(a, c, ahead, t); break;
            case 6: RunTile<Rows6>(a, c, ahead, t); break;
            case 5: RunTile<Rows5>(a, c, ahead, t); break;
            case 4: RunTile<Rows4>(a, c, ahead, t); break;
            case 3: RunTile<Rows3>(a, c, ahead, t); break;
            case 2: RunTile<Rows2>(a, c, ahead, t); break;
            case 1: RunTile<Rows1>(a, c, ahead, t); break;
            default: throw new ArgumentOutOfRangeException(nameof(height), height, "a tile has 1-12 rows");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void RunTile<TRows>(float* a, float* c, float* ahead, in TileArguments t) where TRows : struct, ITileRows
    {
        if (!t.Whole) StagedTile<TRows>(a, t.XStride, t.Panel, t.Depth, t.Sums, ahead, TRows.Count, c, t.Ldy, t.Columns, t.Bias, t.Finish);
        else if (WholeTile<TRows>(a, t.XStride, t.Panel, t.Depth, c, t.Ldy, t.Bias, t.Sums, ahead, t.Plan))
            FinishTile(t.Sums, TRows.Count, c, t.Ldy, t.Columns, t.Bias, t.Plan.Staged);
    }

    /// <summary>How a whole tile (all 32 columns, every row in the output) of one inner block starts and ends.</summary>
    readonly struct WholeTilePlan(bool first, bool last, bool accumulate, OutputActivation act)
    {
        readonly OutputActivation _activation = act;
        public readonly bool First = first, Accumulate = accumulate;
        /// <summary>A GELU on the last block: the tile is stored to the staging tile and finished from there.</summary>
        public readonly bool Gelu = last && act is OutputActivation.QuickGelu or OutputActivation.Gelu;
        public readonly bool Relu = last && act == OutputActivation.Relu;
        /// <summary>How a staged GELU tile is finished: its sums already hold the bias and any residual.</summary>
        public Finish Staged => new(false, false, Gelu ? _activation : OutputActivation.None);
    }

    /// <summary>A whole tile: the first block starts from the bias (plus the output's residual when accumulating), later
    /// blocks from the output's partial sums; the sums go straight to the output (ReLU applied in registers), or to
    /// <paramref name="sums"/> when a GELU must follow (returns true then).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static bool WholeTile<TRows>(float* a, nint stride, float* panel, int depth, float* c, int ldc, float* bias, float* sums, float* ahead,
        in WholeTilePlan plan) where TRows : struct, ITileRows
    {
        // With a short inner dimension (a ResNet's 64-256-deep 1×1 convolutions and Winograd products) a tile is over
        // before its output rows and rows of x arrive from memory: ask for the next tile's while this one multiplies
        // (alternated A/B: RN50 at batch 8 +10 %, texts at batch 64 +6 %). Deeper tiles hide the wait themselves (with the
        // prefetch at every depth, ViT-B/32 at batch 1 was 7 % slower).
        if (depth <= PrefetchDepth)
        {
            float* nextC = c + (long)TRows.Count * ldc;
            byte* nextA = (byte*)a + TRows.Count * stride;
            for (int r = 0; r < TRows.Count; r++)
            {
                Sse.Prefetch0(nextC + (long)r * ldc);
                Sse.Prefetch0(nextC + (long)r * ldc + 16);
                Sse.Prefetch0(nextA + r * stride);
            }
        }
        float* dest = plan.Gelu ? sums : c;
        nint ldDest = plan.Gelu ? PanelWidth : ldc;
        if (!plan.First)
        {
            if (plan.Relu) Tile<TRows, FromRows, WithRelu>(a, stride, panel, depth, c, ldc, null, dest, ldDest, ahead);
            else Tile<TRows, FromRows, NoRelu>(a, stride, panel, depth, c, ldc, null, dest, ldDest, ahead);
        }
        else if (plan.Accumulate)
        {
            if (plan.Relu) Tile<TRows, FromRowsPlusBias, WithRelu>(a, stride, panel, depth, c, ldc, bias, dest, ldDest, ahead);
            else Tile<TRows, FromRowsPlusBias, NoRelu>(a, stride, panel, depth, c, ldc, bias, dest, ldDest, ahead);
        }
        else if (plan.Relu) Tile<TRows, FromRows, WithRelu>(a, stride, panel, depth, bias, 0, null, dest, ldDest, ahead);
        else Tile<TRows, FromRows, NoRelu>(a, stride, panel, depth, bias, 0, null, dest, ldDest, ahead);
        return plan.Gelu;
    }

    /// <summary>A tile summed from zero into the staging tile, then finished into the output by <see cref="FinishTile"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void StagedTile<TRows>(float* a, nint stride, float* panel, int depth, float* sums, float* ahead, int rows, float* c, int ldc,
        int columns, float* bias, in Finish finish) where TRows : struct, ITileRows
    {
        Tile<TRows, FromZero, NoRelu>(a, stride, panel, depth, null, 0, null, sums, PanelWidth, ahead);
        FinishTile(sums, rows, c, ldc, columns, bias, finish);
    }

    /// <summary>
    /// One tile of a small product whose right-hand side the caller packed itself (attention's keys and values): rows
    /// 0 … <paramref name="rows"/>−1 (1–12) of <paramref name="a"/> times the [<paramref name="depth"/>][32] panel,
    /// written to <paramref name="dest"/> (32 floats per row, <paramref name="ldDest"/> apart). Only those rows are read
    /// and written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TileProduct(float* a, int lda, int rows, float* panel, int depth, float* dest, int ldDest)
    {
        nint stride = (nint)lda * sizeof(float);
        switch (rows)
        {
            case 12: Tile<Rows12, FromZero, NoRelu>(a, stride, panel, depth, null, 0, null, dest, ldDest, panel); break;
            case 11: Tile<Rows11, FromZero, NoRelu>(a, stride, panel, depth, null, 0, null, dest, ldDest, panel); break;
            case 10: Tile<Rows10, FromZero, NoRelu>(a, stride, panel, depth, null, 0, null, dest, ldDest, panel); break;
            case 9: Tile<Rows9, FromZero, NoRelu>(a, stride, panel, depth, null, 0, null, dest, ldDest, panel); break;
            case 8: Tile<Rows8, FromZero, NoRelu>(a, stride, panel, depth, null, 0, null, dest, ldDest, panel); break;
            case 7: Tile<Rows7, FromZero, NoRelu>(a, stride, panel, depth, null, 0, null, dest, ldDest, panel); break;
            case 6: Tile<Rows6, FromZero, NoRelu>(a, stride, panel, depth, null, 0, null, dest, ldDest, panel); break;
            case 5: Tile<Rows5, FromZero, NoRelu>(a, stride, panel, depth, null, 0, null, dest, ldDest, panel); break;
            case 4: Tile<Rows4, FromZero, NoRelu>(a, stride, panel, depth, null, 0, null, dest, ldDest, panel); break;
            case 3: Tile<Rows3, FromZero, NoRelu>(a, stride, panel, depth, null, 0, null, dest, ldDest, panel); break;
            case 2: Tile<Rows2, FromZero, NoRelu>(a, stride, panel, depth, null, 0, null, dest, ldDest, panel); break;
            case 1: Tile<Rows1, FromZero, NoRelu>(a, stride, panel, depth, null, 0, null, dest, ldDest, panel); break;
            default: throw new ArgumentOutOfRangeException(nameof(rows), rows, "a tile has 1-12 rows");
        }
    }

    /// <summary>What happens to a staged tile's sums: added to the output's values (a later block, or a residual), then
    /// (on the last block) the bias, then the activation.</summary>
    readonly record struct Finish(bool Load, bool Bias, OutputActivation Activation);

    interface ITileRows { static abstract int Count { get; } }
    struct Rows12 : ITileRows { public static int Count => 12; }
    struct Rows11 : ITileRows { public static int Count => 11; }
    struct Rows10 : ITileRows { public static int Count => 10; }
    struct Rows9 : ITileRows { public static int Count => 9; }
    struct Rows8 : ITileRows { public static int Count => 8; }
    struct Rows7 : ITileRows { public static int Count => 7; }
    struct Rows6 : ITileRows { public static int Count => 6; }
    struct Rows5 : ITileRows { public static int Count => 5; }
    struct Rows4 : ITileRows { public static int Count => 4; }
    struct Rows3 : ITileRows { public static int Count => 3; }
    struct Rows2 : ITileRows { public static int Count => 2; }
    struct Rows1 : ITileRows { public static int Count => 1; }

    /// <summary>Where a tile's sums start (fixed per instantiation, so the choice costs the loop nothing): at zero, at
    /// rows of <c>start</c> (row stride 0 repeats one row: the bias), or at those rows plus the bias.</summary>
    interface ITileStart { static abstract bool Loads { get; } static abstract bool AddsBias { get; } }
    struct FromZero : ITileStart { public static bool Loads => false; public static bool AddsBias => false; }
    struct FromRows : ITileStart { public static bool Loads => true; public static bool AddsBias => false; }
    struct FromRowsPlusBias : ITileStart { public static bool Loads => true; public static bool AddsBias => true; }

    interface ITileRelu { static abstract bool Applies { get; } }
    struct NoRelu : ITileRelu { public static bool Applies => false; }
    struct WithRelu : ITileRelu { public static bool Applies => true; }

    /// <summary>
    /// The micro-kernel: a [rows, 32] tile of sums over <paramref name="depth"/> inner indices, started as
    /// <typeparamref name="TStart"/> says, through a ReLU if <typeparamref name="TRelu"/> says so, written to
    /// <paramref name="dest"/>. Nothing but loads, broadcasts and fused multiply-adds in the loop, and no call or branch
    /// on the sums after it: either would make the JIT keep the accumulators on the stack inside it (measured: 4× slower).
    /// </summary>
    // a: TRows rows of x (stride in bytes), from the block's first inner index; b: the panel, [depth][32];
    // start, dest: [TRows][32] with row strides in floats; bias: [32] (read when TStart adds it)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Tile<TRows, TStart, TRelu>(float* a, nint stride, float* b, int depth, float* start, nint ldStart, float* bias,
        float* dest, nint ldDest, float* ahead) where TRows : struct, ITileRows where TStart : struct, ITileStart where TRelu : struct, ITileRelu
    {
        if (_width == KernelWidth.Avx512) Tile512<TRows, TStart, TRelu>(a, stride, b, depth, start, ldStart, bias, dest, ldDest, ahead);
        else Tile256<TRows, TStart, TRelu>(a, stride, b, depth, start, ldStart, bias, dest, ldDest, ahead);
    }

    /// <summary>The AVX-512 micro-kernel: 12×2 accumulators of 16 floats (see <see cref="Tile{TRows, TStart, TRelu}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile512<TRows, TStart, TRelu>(float* a, nint stride, float* b, int depth, float* start, nint ldStart, float* bias,
        float* dest, nint ldDest, float* ahead) where TRows : struct, ITileRows where TStart : struct, ITileStart where TRelu : struct, ITileRelu
    {
        byte* r0 = (byte*)a, r3 = r0 + 3 * stride, r6 = r0 + 6 * stride, r9 = r0 + 9 * stride;
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default,
            c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;
        if (TStart.Loads)
        {
            var bias0 = TStart.AddsBias ? Vector512.Load(bias) : default;
            var bias1 = TStart.AddsBias ? Vector512.Load(bias + 16) : default;
            float* s0 = start;
            c00 = Vector512.Load(s0) + bias0; c01 = Vector512.Load(s0 + 16) + bias1; s0 += ldStart;
            if (TRows.Count > 1) { c10 = Vector512.Load(s0) + bias0; c11 = Vector512.Load(s0 + 16) + bias1; s0 += ldStart; }
            if (TRows.Count > 2) { c20 = Vector512.Load(s0) + bias0; c21 = Vector512.Load(s0 + 16) + bias1; s0 += ldStart; }
            if (TRows.Count > 3) { c30 = Vector512.Load(s0) + bias0; c31 = Vector512.Load(s0 + 16) + bias1; s0 += ldStart; }
            if (TRows.Count > 4) { c40 = Vector512.Load(s0) + bias0; c41 = Vector512.Load(s0 + 16) + bias1; s0 += ldStart; }
            if (TRows.Count > 5) { c50 = Vector512.Load(s0) + bias0; c51 = Vector512.Load(s0 + 16) + bias1; s0 += ldStart; }
            if (TRows.Count > 6) { c60 = Vector512.Load(s0) + bias0; c61 = Vector512.Load(s0 + 16) + bias1; s0 += ldStart; }
            if (TRows.Count > 7) { c70 = Vector512.Load(s0) + bias0; c71 = Vector512.Load(s0 + 16) + bias1; s0 += ldStart; }
            if (TRows.Count > 8) { c80 = Vector512.Load(s0) + bias0; c81 = Vector512.Load(s0 + 16) + bias1; s0 += ldStart; }
            if (TRows.Count > 9) { c90 = Vector512.Load(s0) + bias0; c91 = Vector512.Load(s0 + 16) + bias1; s0 += ldStart; }
            if (TRows.Count > 10) { ca0 = Vector512.Load(s0) + bias0; ca1 = Vector512.Load(s0 + 16) + bias1; s0 += ldStart; }
            if (TRows.Count > 11) { cb0 = Vector512.Load(s0) + bias0; cb1 = Vector512.Load(s0 + 16) + bias1; }
        }
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
            if (TRows.Count > 1) { s = Vector512.Create(*(float*)(r0 + stride)); c10 = Avx512F.FusedMultiplyAdd(s, b0, c10); c11 = Avx512F.FusedMultiplyAdd(s, b1, c11); }
            if (TRows.Count > 2) { s = Vector512.Create(*(float*)(r0 + 2 * stride)); c20 = Avx512F.FusedMultiplyAdd(s, b0, c20); c21 = Avx512F.FusedMultiplyAdd(s, b1, c21); }
            if (TRows.Count > 3) { s = Vector512.Create(*(float*)r3); c30 = Avx512F.FusedMultiplyAdd(s, b0, c30); c31 = Avx512F.FusedMultiplyAdd(s, b1, c31); }
            if (TRows.Count > 4) { s = Vector512.Create(*(float*)(r3 + stride)); c40 = Avx512F.FusedMultiplyAdd(s, b0, c40); c41 = Avx512F.FusedMultiplyAdd(s, b1, c41); }
            if (TRows.Count > 5) { s = Vector512.Create(*(float*)(r3 + 2 * stride)); c50 = Avx512F.FusedMultiplyAdd(s, b0, c50); c51 = Avx512F.FusedMultiplyAdd(s, b1, c51); }
            if (TRows.Count > 6) { s = Vector512.Create(*(float*)r6); c60 = Avx512F.FusedMultiplyAdd(s, b0, c60); c61 = Avx512F.FusedMultiplyAdd(s, b1, c61); }
            if (TRows.Count > 7) { s = Vector512.Create(*(float*)(r6 + stride)); c70 = Avx512F.FusedMultiplyAdd(s, b0, c70); c71 = Avx512F.FusedMultiplyAdd(s, b1, c71); }
            if (TRows.Count > 8) { s = Vector512.Create(*(float*)(r6 + 2 * stride)); c80 = Avx512F.FusedMultiplyAdd(s, b0, c80); c81 = Avx512F.FusedMultiplyAdd(s, b1, c81); }
            if (TRows.Count > 9) { s = Vector512.Create(*(float*)r9); c90 = Avx512F.FusedMultiplyAdd(s, b0, c90); c91 = Avx512F.FusedMultiplyAdd(s, b1, c91); }
            if (TRows.Count > 10) { s = Vector512.Create(*(float*)(r9 + stride)); ca0 = Avx512F.FusedMultiplyAdd(s, b0, ca0); ca1 = Avx512F.FusedMultiplyAdd(s, b1, ca1); }
            if (TRows.Count > 11) { s = Vector512.Create(*(float*)(r9 + 2 * stride)); cb0 = Avx512F.FusedMultiplyAdd(s, b0, cb0); cb1 = Avx512F.FusedMultiplyAdd(s, b1, cb1); }
            r0 += sizeof(float); r3 += sizeof(float); r6 += sizeof(float); r9 += sizeof(float);
        }
        if (TRelu.Applies)
        {
            c00 = VectorMath.Relu(c00); c01 = VectorMath.Relu(c01); c10 = VectorMath.Relu(c10); c11 = VectorMath.Relu(c11);
            c20 = VectorMath.Relu(c20); c21 = VectorMath.Relu(c21); c30 = VectorMath.Relu(c30); c31 = VectorMath.Relu(c31);
            c40 = VectorMath.Relu(c40); c41 = VectorMath.Relu(c41); c50 = VectorMath.Relu(c50); c51 = VectorMath.Relu(c51);
            c60 = VectorMath.Relu(c60); c61 = VectorMath.Relu(c61); c70 = VectorMath.Relu(c70); c71 = VectorMath.Relu(c71);
            c80 = VectorMath.Relu(c80); c81 = VectorMath.Relu(c81); c90 = VectorMath.Relu(c90); c91 = VectorMath.Relu(c91);
            ca0 = VectorMath.Relu(ca0); ca1 = VectorMath.Relu(ca1); cb0 = VectorMath.Relu(cb0); cb1 = VectorMath.Relu(cb1);
        }
        float* d = dest;
        c00.Store(d); c01.Store(d + 16); d += ldDest;
        if (TRows.Count > 1) { c10.Store(d); c11.Store(d + 16); d += ldDest; }
        if (TRows.Count > 2) { c20.Store(d); c21.Store(d + 16); d += ldDest; }
        if (TRows.Count > 3) { c30.Store(d); c31.Store(d + 16); d += ldDest; }
        if (TRows.Count > 4) { c40.Store(d); c41.Store(d + 16); d += ldDest; }
        if (TRows.Count > 5) { c50.Store(d); c51.Store(d + 16); d += ldDest; }
        if (TRows.Count > 6) { c60.Store(d); c61.Store(d + 16); d += ldDest; }
        if (TRows.Count > 7) { c70.Store(d); c71.Store(d + 16); d += ldDest; }
        if (TRows.Count > 8) { c80.Store(d); c81.Store(d + 16); d += ldDest; }
        if (TRows.Count > 9) { c90.Store(d); c91.Store(d + 16); d += ldDest; }
        if (TRows.Count > 10) { ca0.Store(d); ca1.Store(d + 16); d += ldDest; }
        if (TRows.Count > 11) { cb0.Store(d); cb1.Store(d + 16); }
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
            if (finish.Bias)
            {
                v0 += bias0;
                v1 += bias1;
            }
            v0 = Activate(v0, finish.Activation);
            v1 = Activate(v1, finish.Activation);
            v0.Store(target);
            v1.Store(target + 16);
            if (narrow) new Span<float>(staged, columns).CopyTo(new Span<float>(q, columns));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Activate(Vector512<float> v, OutputActivation act) => act switch
    {
        OutputActivation.QuickGelu => VectorMath.QuickGelu(v),
        OutputActivation.Gelu => VectorMath.Gelu(v),
        OutputActivation.Relu => VectorMath.Relu(v),
        _ => v,
    };
}

/// <summary>The registers <see cref="MatrixKernel"/>'s micro-kernel works in.</summary>
internal enum KernelWidth : byte { Avx512, Avx2 }

/// <summary>What <see cref="MatrixKernel"/> applies to each output after the bias (and the residual sum, if any).</summary>
internal enum OutputActivation : byte { None, QuickGelu, Gelu, Relu }
