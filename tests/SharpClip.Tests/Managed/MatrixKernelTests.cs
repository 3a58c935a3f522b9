using SharpClip.Managed;
using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Managed;

/// <summary>The managed engine's matrix product against libtorch's, over the shapes its tiling treats differently, with
/// each micro-kernel this CPU can run (AVX-512's and AVX2's: the kernel width is process-wide, hence the collection).</summary>
[Collection(KernelWidthScope.Collection)]
public unsafe class MatrixKernelTests
{
    static readonly object?[][] Shapes =
    [
        [1, 7, 32, 0, 32, false, null],          // one row (a 1-row tile), 7 inner
        [2, 64, 32, 0, 32, true, null],          // a 2-row tile
        [5, 400, 64, 0, 64, false, null],        // a 5-row tile; two inner blocks of 200
        [11, 96, 64, 0, 64, false, "Gelu"],      // an 11-row tile, staged for the GELU
        [13, 770, 40, 0, 40, true, null],        // 7 + 6 rows; a last panel of 8 columns; added to what y holds over 3 blocks
        [50, 1000, 96, 32, 96, false, "QuickGelu"], // 12 + 12 + 12 + 7 + 7 rows; columns 32…96 only; three inner blocks of 334; activation
        [20, 96, 64, 0, 64, false, null],        // 10 + 10 rows
        [23, 96, 64, 0, 64, true, null],         // 12 + 11 rows
        [25, 96, 64, 0, 64, true, null],         // 12 + 7 + 6 rows
        [150, 64, 33, 0, 33, false, "Gelu"],     // a whole row block of 144, then 6 rows; a last panel of 1 column
        [700, 96, 64, 0, 64, true, null],        // more rows than one super-block
    ];

    /// <summary>Every shape with every kernel width this CPU runs (none where the engine is refused).</summary>
    public static IEnumerable<object?[]> Cases =>
        from width in KernelWidthScope.Runnable from shape in Shapes select (object?[])[width.ToString(), .. shape];

    [Theory, MemberData(nameof(Cases))]
    public void MatchesLibtorch(string width, int rows, int inner, int outer, int columnStart, int columnEnd, bool accumulate, string? activation)
    {
        using var kernel = new KernelWidthScope(Enum.Parse<KernelWidth>(width));
        Activation? act = activation is null ? null : Enum.Parse<Activation>(activation);
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(rows + inner);
        var x = torch.randn(rows, inner);
        var weight = torch.randn(outer, inner) / Math.Sqrt(inner);
        var bias = torch.randn(outer);
        var start = torch.randn(rows, outer);
        using var packed = PackedMatrix.FromLinear(weight, bias);
        int ldx = inner + 3, ldy = outer + 5;                                   // strides wider than the rows
        using var xs = AlignedBuffer.Zeroed((long)rows * ldx);
        using var ys = AlignedBuffer.Zeroed((long)(rows + 2) * ldy);           // two guard rows past the output
        new Span<float>(ys.Data + (long)rows * ldy, 2 * ldy).Fill(float.NaN);
        var xv = x.data<float>().ToArray();
        var sv = start.data<float>().ToArray();
        for (int r = 0; r < rows; r++)
        {
            xv.AsSpan(r * inner, inner).CopyTo(new Span<float>(xs.Data + (long)r * ldx, inner));
            sv.AsSpan(r * outer, outer).CopyTo(new Span<float>(ys.Data + (long)r * ldy, outer));
        }
        MatrixKernel.Multiply(xs.Data, rows, ldx, packed, ys.Data + columnStart, ldy, columnStart, columnEnd, accumulate, act, threads: 2);

        var expected = torch.nn.functional.linear(x, weight, bias);
        if (act == Activation.QuickGelu) expected = expected * torch.sigmoid(expected * 1.702);
        if (act == Activation.Gelu) expected = torch.nn.functional.gelu(expected);
        if (accumulate) expected = expected + start;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < outer; j++)
            {
                float got = ys.Data[(long)r * ldy + j];
                float want = j >= columnStart && j < columnEnd ? expected[r, j].item<float>() : sv[r * outer + j]; // columns outside untouched
                Assert.True(Math.Abs(got - want) <= 2e-5f * (1 + Math.Abs(want)), $"[{r},{j}]: {got} vs {want}");
            }
        for (int r = 0; r < rows; r++)                                          // the padding between rows untouched
            for (int j = outer; j < ldy; j++) Assert.Equal(0f, ys.Data[(long)r * ldy + j]);
        for (long i = (long)rows * ldy; i < (long)(rows + 2) * ldy; i++)         // nothing written past the last row
            Assert.True(float.IsNaN(ys.Data[i]), $"guard element {i - (long)rows * ldy} written: {ys.Data[i]}");
    }

    /// <summary>The AVX2 kernel runs each output's chain of fused multiply-adds as the AVX-512 one does, so the two give
    /// the same bits (every shape, residual and activation included); only where the CPU has both.</summary>
    [Fact]
    public void BothKernelsGiveTheSameBits()
    {
        if (!MatrixKernel.HasAvx512) return; // one kernel only: MatchesLibtorch checks it
        foreach (var shape in Shapes)
        {
            int rows = (int)shape[0]!, inner = (int)shape[1]!, outer = (int)shape[2]!, columnStart = (int)shape[3]!, columnEnd = (int)shape[4]!;
            bool accumulate = (bool)shape[5]!;
            Activation? act = shape[6] is string name ? Enum.Parse<Activation>(name) : null;
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(rows * 7 + inner);
            using var packed = PackedMatrix.FromLinear(torch.randn(outer, inner) / Math.Sqrt(inner), torch.randn(outer));
            var xv = torch.randn(rows, inner).data<float>().ToArray();
            var start = torch.randn(rows, outer).data<float>().ToArray();
            using var xs = AlignedBuffer.Zeroed((long)rows * inner);
            xv.CopyTo(new Span<float>(xs.Data, xv.Length));
            var results = new List<float[]>();
            foreach (var width in new[] { KernelWidth.Avx512, KernelWidth.Avx2 })
            {
                using var kernel = new KernelWidthScope(width);
                using var ys = AlignedBuffer.Zeroed((long)rows * outer);
                start.CopyTo(new Span<float>(ys.Data, start.Length));
                MatrixKernel.Multiply(xs.Data, rows, inner, packed, ys.Data + columnStart, outer, columnStart, columnEnd, accumulate, act, threads: 2);
                results.Add(new Span<float>(ys.Data, rows * outer).ToArray());
            }
            for (int i = 0; i < results[0].Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(results[0][i]) == BitConverter.SingleToInt32Bits(results[1][i]),
                    $"{rows}×{inner}→{outer}, element {i}: AVX-512 {results[0][i]:R}, AVX2 {results[1][i]:R}");
        }
    }
    /// <summary>Threads claim their ranges as they come free (<see cref="WorkerTeam.Share"/>), so which thread computes
    /// which rows or panels changes from run to run; the sums must not. Rows split (two panels, many rows; 1,000 rows end
    /// in a padded tile) and panels split, each run five times on 2 and 3 threads, against one thread bit for bit.</summary>
    [Fact]
    public void ClaimedRangesGiveOneThreadsBits()
    {
        if (!MatrixKernel.IsSupported) return;
        foreach (var (rows, inner, outer, accumulate, act) in new (int, int, int, bool, Activation?)[]
                     { (1000, 96, 40, true, null), (1000, 96, 64, false, Activation.QuickGelu), (50, 800, 300, false, null) })
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(rows + outer);
            using var packed = PackedMatrix.FromLinear(torch.randn(outer, inner) / Math.Sqrt(inner), torch.randn(outer));
            var xv = torch.randn(rows, inner).data<float>().ToArray();
            var start = torch.randn(rows, outer).data<float>().ToArray();
            using var xs = AlignedBuffer.Zeroed((long)rows * inner);
            xv.CopyTo(new Span<float>(xs.Data, xv.Length));
            float[] Run(int threads)
            {
                using var ys = AlignedBuffer.Zeroed((long)rows * outer);
                start.CopyTo(new Span<float>(ys.Data, start.Length));
                MatrixKernel.Multiply(xs.Data, rows, inner, packed, ys.Data, outer, 0, outer, accumulate, act, threads);
                return new Span<float>(ys.Data, rows * outer).ToArray();
            }
            var one = Run(1);
            foreach (int threads in new[] { 2, 3 })
                for (int run = 0; run < 5; run++)
                {
                    var got = Run(threads);
                    for (int i = 0; i < one.Length; i++)
                        Assert.True(BitConverter.SingleToInt32Bits(one[i]) == BitConverter.SingleToInt32Bits(got[i]),
                            $"{rows}×{inner}→{outer} on {threads} threads, element {i}: {got[i]:R} against one thread's {one[i]:R}");
                }
        }
    }
}
