using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SharpClip.Managed;

namespace SharpClip.Tests.Managed;

/// <summary>The managed engine's attention against the textbook sum in float64, over the layouts its tiles treat
/// differently, and the in-register transpose its key packing uses.</summary>
public unsafe class HeadAttentionTests
{
    [Fact]
    public void Transpose16TurnsRowsIntoColumns()
    {
        if (!Avx512F.IsSupported) return; // the transpose is only called where AVX-512 is
        var rows = stackalloc Vector512<float>[16];
        var values = new float[16, 16];
        for (int i = 0; i < 16; i++)
        {
            var row = new float[16];
            for (int j = 0; j < 16; j++) row[j] = values[i, j] = 100 * i + j;
            rows[i] = Vector512.Create(row);
        }
        HeadAttention.Transpose16(rows);
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < 16; j++) Assert.Equal(values[j, i], rows[i][j]);
    }

    /// <summary>
    /// Every query of every sequence and head: 50 tokens (five query tiles, the last two of 7, keys padded to two
    /// panels), 77 causal tokens, one pooled query per sequence, and head widths of 64 (outputs written straight from
    /// the tiles, keys packed 16 at a time) and 40 (a narrow value panel, keys packed one by one).
    /// </summary>
    [Theory]
    [InlineData(3, 50, 2, 64, false, false)]
    [InlineData(2, 77, 2, 64, true, false)]
    [InlineData(2, 50, 3, 40, false, false)]
    [InlineData(2, 77, 2, 40, true, false)]
    [InlineData(3, 77, 2, 64, true, true)]
    [InlineData(3, 50, 2, 64, false, true)]
    public void MatchesTheTextbookSum(int sequences, int tokens, int heads, int headWidth, bool causal, bool pooled)
    {
        int width = heads * headWidth, stride = width + 16, queries = pooled ? 1 : tokens;
        var random = new Random(sequences * 1000 + tokens + headWidth);
        float[] Fill(int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        var q = Fill(sequences * queries * stride);
        var k = Fill(sequences * tokens * stride);
        var v = Fill(sequences * tokens * stride);
        var output = new float[sequences * queries * stride];
        var positions = Enumerable.Range(0, sequences).Select(s => (s * 31 + 7) % tokens).ToArray();
        fixed (float* qp = q, kp = k, vp = v, op = output)
        fixed (int* pp = positions)
        {
            var layout = new HeadAttention.Layout(qp, stride, kp, stride, vp, stride, op, stride, sequences, tokens, queries,
                pooled ? pp : null, causal);
            HeadAttention.Run(layout, heads, headWidth, threads: 2);
        }
        double scale = 1 / Math.Sqrt(headWidth);
        for (int s = 0; s < sequences; s++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < queries; i++)
                {
                    int position = pooled ? positions[s] : i, visible = causal ? position + 1 : tokens;
                    var scores = new double[visible];
                    for (int j = 0; j < visible; j++)
                        for (int d = 0; d < headWidth; d++)
                            scores[j] += (float)(q[(s * queries + i) * stride + h * headWidth + d] * (float)scale) * (double)k[(s * tokens + j) * stride + h * headWidth + d];
                    double max = scores.Max(), total = scores.Sum(x => Math.Exp(x - max));
                    for (int d = 0; d < headWidth; d++)
                    {
                        double want = 0;
                        for (int j = 0; j < visible; j++) want += Math.Exp(scores[j] - max) / total * v[(s * tokens + j) * stride + h * headWidth + d];
                        float got = output[(s * queries + i) * stride + h * headWidth + d];
                        Assert.True(Math.Abs(got - want) <= 2e-5 * (1 + Math.Abs(want)), $"sequence {s} head {h} query {i} element {d}: {got} vs {want}");
                    }
                }
        for (int r = 0; r < sequences * queries; r++)                             // the row padding untouched
            for (int j = width; j < stride; j++) Assert.Equal(0f, output[r * stride + j]);
    }
}
