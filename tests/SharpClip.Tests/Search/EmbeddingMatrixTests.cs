using SharpClip.Search;

namespace SharpClip.Tests.Search;

public class EmbeddingMatrixTests
{
    static float[][] RandomUnit(int n, int d, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => Vectors.Normalize(Enumerable.Range(0, d).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray())).ToArray();
    }

    /// <summary>Reference: every dot product in double precision, sorted; independent of the torch code.</summary>
    static List<(long Id, double Score)> BruteForce(IReadOnlyDictionary<long, float[]> rows, float[] q, int k) =>
        rows.Select(kv => (kv.Key, Vectors.Dot(kv.Value, q))).OrderByDescending(t => t.Item2).ThenBy(t => t.Key).Take(k).ToList();

    static void AssertSame(List<(long Id, double Score)> expected, IReadOnlyList<ScoredId> got)
    {
        Assert.Equal(expected.Count, got.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Id, got[i].Id);
            Assert.Equal(expected[i].Score, got[i].Score, 5);
        }
    }

    [Fact]
    public void TopKMatchesBruteForceAcrossSeveralBlocks()
    {
        var data = RandomUnit(2500, 16, 1);
        using var m = new EmbeddingMatrix(16, blockRows: 1024);
        var rows = new Dictionary<long, float[]>();
        for (int i = 0; i < data.Length; i++) { m.Upsert(1000 + i, data[i]); rows[1000 + i] = data[i]; }
        Assert.Equal(2500, m.Count);
        var queries = RandomUnit(5, 16, 2);
        var batched = m.TopK(queries, 7);
        for (int qi = 0; qi < queries.Length; qi++)
        {
            AssertSame(BruteForce(rows, queries[qi], 7), m.TopK(queries[qi], 7));
            AssertSame(BruteForce(rows, queries[qi], 7), batched[qi]);
        }
    }

    [Fact]
    public void ReplaceAndRemoveKeepResultsExact()
    {
        var data = RandomUnit(1500, 8, 3);
        using var m = new EmbeddingMatrix(8, blockRows: 1024);
        var rows = new Dictionary<long, float[]>();
        for (int i = 0; i < data.Length; i++) { m.Upsert(i, data[i]); rows[i] = data[i]; }
        var q = RandomUnit(1, 8, 4)[0];
        // make row 17 the perfect match, then remove the current best rows, including ones in the last block
        m.Upsert(17, q); rows[17] = q;
        Assert.Equal(17, m.TopK(q, 1)[0].Id);
        foreach (long id in new long[] { 17, 3, 1499, 1200, 0 }) { Assert.True(m.Remove(id)); rows.Remove(id); }
        Assert.False(m.Remove(17));
        Assert.Equal(1495, m.Count);
        AssertSame(BruteForce(rows, q, 10), m.TopK(q, 10));
        // k larger than the index returns everything
        using var small = new EmbeddingMatrix(8);
        small.Upsert(1, data[0]);
        small.Upsert(2, data[1]);
        Assert.Equal(2, small.TopK(q, 50).Count);
        Assert.Equal(data[1], small.Row(1));
    }

    [Fact]
    public void RejectsWrongDimensionsAndK()
    {
        using var m = new EmbeddingMatrix(4);
        Assert.Throws<ArgumentException>(() => m.Upsert(1, new float[3]));
        m.Upsert(1, [1, 0, 0, 0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => m.TopK(new float[] { 1, 0, 0, 0 }, 0));
        Assert.Throws<ArgumentException>(() => m.TopK(new float[] { 1, 0, 0 }, 1));
    }

    [Fact]
    public void DedupFindsPlantedGroupsAndMatchesAllPairsBruteForce()
    {
        var data = RandomUnit(1300, 32, 5).ToList();
        var rng = new Random(6);
        // plant: rows 1290.. are jittered copies of rows 10, 10, 500 and 1100 (a group of three and two pairs)
        int[] sources = [10, 10, 500, 1100];
        foreach (int s in sources)
            data.Add(Vectors.Normalize(data[s].Select(x => x + (float)(rng.NextDouble() - 0.5) * 0.01f).ToArray()));
        using var m = new EmbeddingMatrix(32, blockRows: 1024);
        for (int i = 0; i < data.Count; i++) m.Upsert(i, data[i]);

        const float threshold = 0.98f;
        var pairs = new List<(int, int)>();
        for (int a = 0; a < data.Count; a++)
            for (int b = a + 1; b < data.Count; b++)
                if (Vectors.Dot(data[a], data[b]) >= threshold) pairs.Add((a, b));
        Assert.Equal(4 + 1, pairs.Count); // 10~1300, 10~1301, 1300~1301, 500~1302, 1100~1303

        var groups = Deduplicator.FindGroups(m, threshold, chunkRows: 100);
        Assert.Equal(3, groups.Count);
        Assert.Equal([10L, 1300, 1301], groups[0].Ids);
        Assert.Equal(new[] { new long[] { 500, 1302 }, [1100, 1303] }, groups.Skip(1).Select(g => g.Ids.ToArray()).ToArray());
        Assert.All(groups, g => Assert.InRange(g.MinLinkScore, threshold, 1.0001f));
        Assert.Empty(Deduplicator.FindGroups(m, 0.9999f));
    }
}
