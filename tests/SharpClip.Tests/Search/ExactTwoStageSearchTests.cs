using SharpClip.Search;

namespace SharpClip.Tests.Search;

/// <summary>
/// The two-stage search (int8 scan + exact float32 rescoring) must return exactly what a plain float32 brute force
/// returns: the same ids in the same order with bit-identical scores, for every SIMD path this CPU runs.
/// </summary>
public class ExactTwoStageSearchTests
{
    public static TheoryData<string> Paths() => [.. ScanPaths.Supported.Select(p => p.ToString())];

    /// <summary>The reference, written out here: s += q[j]·x[j] in float32, j ascending; order by score, then id.</summary>
    static List<ScoredId> BruteForce(IReadOnlyDictionary<long, float[]> rows, float[] q, int k)
    {
        static float Plain(float[] q, float[] x)
        {
            float s = 0;
            for (int j = 0; j < q.Length; j++) s += q[j] * x[j];
            return s;
        }
        return rows.Select(kv => new ScoredId(kv.Key, Plain(q, kv.Value))).OrderByDescending(s => s.Score).ThenBy(s => s.Id).Take(k).ToList();
    }

    static float[] Gaussian(Random rng, int d, float scale = 1)
    {
        var v = new float[d];
        for (int j = 0; j < d; j++) v[j] = scale * (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return v;
    }

    static float[] Unit(Random rng, int d) => Vectors.Normalize(Gaussian(rng, d));

    static EmbeddingMatrix Build(string path, int d, IReadOnlyDictionary<long, float[]> rows, int chunkRows = 1000)
    {
        var m = new EmbeddingMatrix(d, blockRows: 1024) { Path = Enum.Parse<ScanPath>(path), ChunkRows = chunkRows };
        foreach (var (id, v) in rows) m.Upsert(id, v);
        return m;
    }

    static void AssertExact(IReadOnlyDictionary<long, float[]> rows, EmbeddingMatrix m, float[] q, int k)
    {
        var expected = BruteForce(rows, q, k);
        var got = m.TopK(q, k);
        Assert.Equal(expected, got);
        // the plain float32 scores are also the true dot products to float precision (relative to |q|·|x|)
        foreach (var s in got)
            Assert.InRange(Math.Abs(Vectors.Dot(rows[s.Id], q) - s.Score), 0, 1e-5 * Math.Sqrt(Vectors.Dot(q, q) * Vectors.Dot(rows[s.Id], rows[s.Id])) + 1e-30);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void RandomDataMatchesBruteForceExactlyAndRescoresFewRows(string path)
    {
        var rng = new Random(1);
        var rows = new Dictionary<long, float[]>();
        for (int i = 0; i < 6000; i++) rows[10_000 + 7L * i] = Unit(rng, 512);
        using var m = Build(path, 512, rows);
        foreach (int k in new[] { 1, 10, 100 })
            for (int qi = 0; qi < 3; qi++)
            {
                var q = Unit(rng, 512);
                AssertExact(rows, m, q, k);
                // the first stage really did the work: the exact stage saw a small fraction of the rows
                Assert.False(m.LastScan.FullExactScan);
                Assert.InRange(m.LastScan.Rescored, k, 6000 / 10);
                Assert.Equal(path, m.LastScan.Kernel);
            }
        // a query equal to a stored row finds it first with its own squared norm
        long someId = 10_000 + 7L * 4321;
        Assert.Equal(someId, m.TopK(rows[someId], 1)[0].Id);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void NearDuplicatesAndExactTiesMatchBruteForce(string path)
    {
        // 30 centres x 100 near-copies (noise 1e-3 .. 1e-6) plus exact duplicates under different ids: many scores
        // closer together than the int8 error, so the bound keeps many candidates and ties need the id rule
        var rng = new Random(2);
        const int d = 128;
        var centres = Enumerable.Range(0, 30).Select(_ => Unit(rng, d)).ToArray();
        var rows = new Dictionary<long, float[]>();
        var duplicated = new List<long>();
        long id = 0;
        foreach (var c in centres)
            for (int v = 0; v < 100; v++)
            {
                float noise = (float)Math.Pow(10, -3 - v % 4);
                var x = Vectors.Normalize(c.Zip(Gaussian(rng, d, noise), (a, b) => a + b).ToArray());
                rows[id += 3] = x;
                if (v % 10 != 0) continue;
                duplicated.Add(id);
                rows[id += 3] = x;                                       // an exact duplicate under a larger id
            }
        using var m = Build(path, d, rows, chunkRows: 512);
        m.MaxCandidates = int.MaxValue;                                  // never fall back: test the bound itself
        foreach (int k in new[] { 1, 5, 50, 150 })
        {
            AssertExact(rows, m, centres[k % 30], k);
            Assert.False(m.LastScan.FullExactScan);
            var q = Vectors.Normalize(centres[3].Zip(Gaussian(rng, d, 1e-4f), (a, b) => a + b).ToArray());
            AssertExact(rows, m, q, k);
            AssertExact(rows, m, rows[duplicated[k % duplicated.Count]], k);   // a stored row that has an exact duplicate
        }
        // with a tiny candidate limit the full exact scan takes over and must agree as well
        m.MaxCandidates = 20;
        AssertExact(rows, m, centres[7], 10);
        Assert.True(m.LastScan.FullExactScan);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void UnnormalisedOddDimensionAndExtremeValues(string path)
    {
        // dimension 37 (padded to 64 codes), rows of very different norms, a few huge outlier components, tiny rows
        var rng = new Random(3);
        const int d = 37;
        var rows = new Dictionary<long, float[]>();
        for (int i = 0; i < 3000; i++)
        {
            var x = Gaussian(rng, d, (float)Math.Pow(10, rng.Next(-20, 6)));
            if (i % 7 == 0) x[rng.Next(d)] *= 1000;
            if (i % 11 == 0) Array.Clear(x);
            rows[i] = x;
        }
        using var m = Build(path, d, rows, chunkRows: 700);
        m.MaxCandidates = int.MaxValue;
        for (int qi = 0; qi < 4; qi++)
        {
            var q = Gaussian(rng, d, qi == 3 ? 1e-12f : 3f);
            if (qi == 1) q[5] = 1e4f;
            AssertExact(rows, m, q, 25);
            // every row's interval holds its exact score (the bound, tested directly on awkward data)
            var (lower, upper) = m.Intervals(q);
            for (int row = 0; row < m.Count; row++)
            {
                float exact = BruteForce(new Dictionary<long, float[]> { [0] = rows[m.IdAt(row)] }, q, 1)[0].Score;
                Assert.InRange((double)exact, lower[row], upper[row]);
            }
        }
        AssertExact(rows, m, new float[d], 5);                          // a zero query: every score is 0, ids decide
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void KLargerThanCountReturnsEverythingInOrder(string path)
    {
        var rng = new Random(4);
        var rows = new Dictionary<long, float[]>();
        for (int i = 0; i < 40; i++) rows[100 - i] = Unit(rng, 64);
        using var m = Build(path, 64, rows);
        var q = Unit(rng, 64);
        AssertExact(rows, m, q, 40);
        AssertExact(rows, m, q, 1000);
        Assert.Equal(40, m.TopK(q, 1000).Count);
        AssertExact(rows, m, q, 39);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void UpsertsAndRemovesKeepResultsExact(string path)
    {
        var rng = new Random(5);
        const int d = 96;
        var rows = new Dictionary<long, float[]>();
        for (int i = 0; i < 2600; i++) rows[i] = Unit(rng, d);
        using var m = Build(path, d, rows, chunkRows: 600);
        var q = Unit(rng, d);
        AssertExact(rows, m, q, 10);
        // replace rows (some to near-copies of the query), remove the current winners and rows in the last block,
        // add new rows that move into freed places
        foreach (long id in new long[] { 5, 1500, 2599 }) rows[id] = Vectors.Normalize(q.Zip(Gaussian(rng, d, 0.01f), (a, b) => a + b).ToArray());
        foreach (long id in new long[] { 5, 1500, 2599 }) m.Upsert(id, rows[id]);
        AssertExact(rows, m, q, 10);
        foreach (var s in m.TopK(q, 4)) { Assert.True(m.Remove(s.Id)); rows.Remove(s.Id); }
        foreach (long id in new long[] { 0, 2048, 2500 }) { Assert.True(m.Remove(id)); rows.Remove(id); }
        Assert.False(m.Remove(0));
        for (int i = 0; i < 700; i++) { var v = Unit(rng, d); rows[10_000 + i] = v; m.Upsert(10_000 + i, v); }
        Assert.Equal(rows.Count, m.Count);
        AssertExact(rows, m, q, 10);
        AssertExact(rows, m, Unit(rng, d), 33);
        Assert.Equal(rows[10_000], m.Row(m.Ids.IndexOf(10_000L)));
        m.Clear();
        Assert.Empty(m.TopK(q, 3));
    }

    [Fact]
    public void IntegerKernelsAgreeOnEveryPathIncludingExtremesAndTails()
    {
        // the widest values the quantisers produce (±127 codes against the largest query code), odd row counts
        const int d = 512, width = 512;
        int max = (int)Math.Min(short.MaxValue, int.MaxValue / (127L * d));
        var rng = new Random(6);
        const int rows = 11;
        var codes = new sbyte[rows * width];
        var query = new short[width];
        for (int j = 0; j < width; j++) query[j] = (short)(j % 3 == 0 ? max : rng.Next(-max, max + 1));
        for (int i = 0; i < codes.Length; i++) codes[i] = (sbyte)(i < width ? 127 : i < 2 * width ? -127 : rng.Next(-127, 128));
        var expected = new long[rows];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < width; j++) expected[r] += (long)codes[r * width + j] * query[j];
        Assert.All(expected, e => Assert.InRange(e, int.MinValue, int.MaxValue));
        foreach (var path in ScanPaths.Supported)
        {
            var dots = new int[rows];
            unsafe
            {
                fixed (sbyte* c = codes)
                fixed (short* q = query)
                fixed (int* o = dots)
                    QuantizedDot.Rows(path, c, width, rows, q, width, o);
            }
            Assert.Equal(expected, dots.Select(x => (long)x).ToArray());
        }
    }

    [Fact]
    public void VectorisedAndScalarQuantisationAgreeAndTheirNormsAreUpperBounds()
    {
        var rng = new Random(7);
        foreach (int d in new[] { 512, 100, 7 })
            for (int i = 0; i < 50; i++)
            {
                var x = Gaussian(rng, d, (float)Math.Pow(10, rng.Next(-30, 10)));
                if (i % 5 == 0) x[rng.Next(d)] *= -300;
                Assert.Null(RowQuantizer.Problem(x, out float maxAbs));
                Assert.Equal(x.Max(v => Math.Abs(v)), maxAbs);
                var fast = new sbyte[RowQuantizer.Width(d)];
                var slow = new sbyte[fast.Length];
                var a = RowQuantizer.Quantize(x, maxAbs, fast);
                var b = RowQuantizer.Quantize(x, maxAbs, slow, vectorised: false);
                Assert.Equal(slow, fast);
                Assert.Equal(b.Scale, a.Scale);
                // the stored norms bound the true ones (here in double), and only just
                double err = Math.Sqrt(x.Select((v, j) => Math.Pow(v - (double)a.Scale * fast[j], 2)).Sum());
                double norm = Math.Sqrt(x.Sum(v => (double)v * v));
                foreach (var c in new[] { a, b })
                {
                    Assert.InRange(c.Error, err, err * (1 + 1e-6) + 1e-300);
                    Assert.InRange(c.Norm, norm, norm * (1 + 1e-6));
                }
                Assert.All(fast.Skip(d), c => Assert.Equal(0, c));
            }
    }

    [Fact]
    public unsafe void ExactKernelsReproduceThePlainLoopBitForBit()
    {
        var rng = new Random(8);
        var p = stackalloc float*[8];
        foreach (int d in new[] { 1, 7, 8, 37, 512 })
        {
            var q = Gaussian(rng, d);
            var rows = Enumerable.Range(0, 8).Select(i => Gaussian(rng, d, (float)Math.Pow(10, i - 4))).ToArray();
            var expected = rows.Select(x => BruteForce(new Dictionary<long, float[]> { [0] = x }, q, 1)[0].Score).ToArray();
            var handles = rows.Select(r => System.Runtime.InteropServices.GCHandle.Alloc(r, System.Runtime.InteropServices.GCHandleType.Pinned)).ToArray();
            try
            {
                for (int i = 0; i < 8; i++) p[i] = (float*)handles[i].AddrOfPinnedObject();
                fixed (float* qp = q)
                {
                    var four = new float[8];
                    ExactDot.Score4(p[0], p[1], p[2], p[3], qp, d, four.AsSpan(0, 4));
                    ExactDot.Score4(p[4], p[5], p[6], p[7], qp, d, four.AsSpan(4, 4));
                    Assert.Equal(expected, four);
                    var one = new float[8];
                    for (int i = 0; i < 8; i++) one[i] = ExactDot.Score(p[i], qp, d);
                    Assert.Equal(expected, one);
                    if (System.Runtime.Intrinsics.X86.Avx.IsSupported)
                    {
                        var eight = new float[8];
                        ExactDot.Score8Avx(p, p, qp, d, eight);
                        Assert.Equal(expected, eight);
                    }
                }
            }
            finally { foreach (var h in handles) h.Free(); }
        }
    }

    [Fact]
    public void RejectsNonFiniteValues()
    {
        using var m = new EmbeddingMatrix(4);
        var ex = Assert.Throws<ArgumentException>(() => m.Upsert(42, [1, float.NaN, 0, 0]));
        Assert.Contains("id 42", ex.Message);
        m.Upsert(1, [1, 0, 0, 0]);
        Assert.Throws<ArgumentException>(() => m.TopK(new float[] { 1, float.PositiveInfinity, 0, 0 }, 1));
        Assert.Throws<ArgumentException>(() => m.Upsert(2, [3e38f, 3e38f, 0, 0]));
        Assert.Equal(1, m.Count);
    }
}
