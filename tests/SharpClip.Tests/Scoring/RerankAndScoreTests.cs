using System.Text.Json;
using SharpClip.Scoring;
using SharpClip.Pipelines;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using SharpClip.Tests.Search;

namespace SharpClip.Tests.Scoring;

/// <summary>
/// Reranking and CLIPScore against every manifest model: the expected order and scores are computed here from the
/// reference implementation's own image and text features (<c>eval.image_features</c>, <c>eval.text_features</c>).
/// </summary>
[Trait("Category", "Fidelity")]
public class RerankAndScoreTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("sharpclip-rerank-").FullName;

    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Reference cosines [images, captions] from the reference features, in double precision.</summary>
    static double[,] ReferenceCosines(ReferenceModel model)
    {
        using var images = model.Tensor("eval", "image_features");
        using var texts = model.Tensor("eval", "text_features");
        int n = (int)images.shape[0], m = (int)texts.shape[0], d = (int)images.shape[1];
        var a = images.to(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray();
        var b = texts.to(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray();
        var cos = new double[n, m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                double dot = 0, na = 0, nb = 0;
                for (int k = 0; k < d; k++) { dot += a[i * d + k] * (double)b[j * d + k]; na += a[i * d + k] * (double)a[i * d + k]; nb += b[j * d + k] * (double)b[j * d + k]; }
                cos[i, j] = dot / Math.Sqrt(na * nb);
            }
        return cos;
    }

    static ClipPipeline Load(ReferenceModel model) => ClipPipeline.Load(model.WeightsPath, new ClipPipelineOptions { VocabPath = Fixtures.VocabPath });

    [Theory, MemberData(nameof(Models))]
    public void RerankOrdersCandidatesAsTheReferenceFeaturesDo(string id)
    {
        using var model = new ReferenceModel(id);
        var eval = model.Section("eval");
        var images = Fixtures.ImagePaths(eval);
        var captions = Fixtures.Strings(eval, "captions");
        var cos = ReferenceCosines(model);
        using var pipeline = Load(model);
        for (int j = 0; j < captions.Length; j++)
        {
            var result = Reranker.Rerank(pipeline, captions[j], images);
            Assert.Empty(result.Failed);
            Assert.Equal(images.Length, result.Ranked.Count);
            Assert.Equal(Enumerable.Range(0, images.Length), result.Ranked.Select(r => r.Index).Order());
            for (int r = 0; r < result.Ranked.Count; r++)
            {
                var c = result.Ranked[r];
                Assert.Equal(r + 1, c.Rank);
                Assert.Equal(images[c.Index], c.Source);
                Assert.True(Math.Abs(cos[c.Index, j] - c.Cosine) < 1e-4, $"{id} caption {j} image {c.Index}: cosine {c.Cosine}, reference {cos[c.Index, j]}");
                // Best first by the reference's cosines (up to float noise between near-ties).
                if (r > 0) Assert.True(cos[result.Ranked[r - 1].Index, j] >= cos[c.Index, j] - 2e-4, $"{id} caption {j}: rank {r} out of order");
            }
            int best = Enumerable.Range(0, images.Length).MaxBy(i => cos[i, j]);
            Assert.True(cos[best, j] - cos[result.Ranked[0].Index, j] < 2e-4);
        }
    }

    [Fact]
    public void OrderBreaksTiesByInputPositionAndIgnoresVectorLength()
    {
        var order = Reranker.Order([1f, 0f], [[0f, 1f], [2f, 0f], [1f, 1f], [5f, 0f]]);
        Assert.Equal([1, 3, 2, 0], order.Select(o => o.Index));
        Assert.Equal(1.0, order[0].Cosine, 12);
        Assert.Equal(Math.Sqrt(0.5), order[2].Cosine, 12);
    }

    [Theory, MemberData(nameof(Models))]
    public void ClipScoreIsTwoAndAHalfTimesTheClampedReferenceCosine(string id)
    {
        using var model = new ReferenceModel(id);
        var eval = model.Section("eval");
        var images = Fixtures.ImagePaths(eval);
        var captions = Fixtures.Strings(eval, "captions");
        var cos = ReferenceCosines(model);
        // Every image with every caption: pairs with negative cosines exercise the clamp.
        var csv = Path.Combine(_dir, "pairs.csv");
        var lines = new List<string> { "image,caption" };
        var expected = new List<double>();
        for (int i = 0; i < images.Length; i++)
            for (int j = 0; j < captions.Length; j++)
            {
                lines.Add($"{images[i]},\"{captions[j].Replace("\"", "\"\"")}\"");
                expected.Add(2.5 * Math.Max(cos[i, j], 0));
            }
        File.WriteAllLines(csv, lines);
        var pairs = ClipScore.ReadPairs(csv);
        Assert.Equal(expected.Count, pairs.Count);
        using var pipeline = Load(model);
        var report = ClipScore.Compute(pipeline, pairs);
        Assert.Equal(0, report.Failed);
        for (int k = 0; k < expected.Count; k++)
            Assert.True(Math.Abs(expected[k] - report.Pairs[k].Score!.Value) < 2.5e-4, $"{id} pair {k}: {report.Pairs[k].Score} vs {expected[k]}");
        Assert.True(Math.Abs(expected.Average() - report.Mean) < 2.5e-4);
    }

    [Theory, MemberData(nameof(Models))]
    public void CliRerankAndScoreMatchTheLibrary(string id)
    {
        using var model = new ReferenceModel(id);
        var eval = model.Section("eval");
        var images = Fixtures.ImagePaths(eval);
        var captions = Fixtures.Strings(eval, "captions");
        var cos = ReferenceCosines(model);

        var (exit, stdout, err) = CliProcess.Run(["rerank", "--model", model.WeightsPath, "--vocab", Fixtures.VocabPath,
            "--prompt", captions[0], "--top", "2", "--json", .. images]);
        Assert.True(exit == 0, err);
        using (var doc = JsonDocument.Parse(stdout))
        {
            var ranked = doc.RootElement.GetProperty("ranked").EnumerateArray().ToList();
            Assert.Equal(Math.Min(2, images.Length), ranked.Count);
            var expectedBest = Enumerable.Range(0, images.Length).OrderByDescending(i => cos[i, 0]).ToList();
            int first = Array.IndexOf(images, ranked[0].GetProperty("file").GetString());
            Assert.True(cos[expectedBest[0], 0] - cos[first, 0] < 2e-4);
        }

        var csv = Path.Combine(_dir, "pairs.csv");
        File.WriteAllLines(csv, ["file,text", .. images.Select((img, i) => $"{Path.GetRelativePath(_dir, img)},\"{captions[i % captions.Length].Replace("\"", "\"\"")}\"")]);
        (exit, stdout, err) = CliProcess.Run("score", "--model", model.WeightsPath, "--vocab", Fixtures.VocabPath, "--pairs", csv, "--json");
        Assert.True(exit == 0, err);
        using (var doc = JsonDocument.Parse(stdout))
        {
            var expected = images.Select((_, i) => 2.5 * Math.Max(cos[i, i % captions.Length], 0)).ToList();
            var got = doc.RootElement.GetProperty("pairs").EnumerateArray().Select(p => p.GetProperty("score").GetDouble()).ToList();
            Assert.Equal(expected.Count, got.Count);
            for (int k = 0; k < got.Count; k++) Assert.True(Math.Abs(expected[k] - got[k]) < 2.5e-4, $"{id} row {k}");
            Assert.True(Math.Abs(expected.Average() - doc.RootElement.GetProperty("mean").GetDouble()) < 2.5e-4);
        }
    }

    [Fact]
    public void PairsFileWithoutACaptionColumnNamesTheFile()
    {
        var csv = Path.Combine(_dir, "bad.csv");
        File.WriteAllLines(csv, ["image,label", "a.png,cat"]);
        var e = Assert.ThrowsAny<Exception>(() => ClipScore.ReadPairs(csv));
        Assert.Contains("bad.csv", e.Message);
        Assert.Contains("caption", e.Message);
    }
}
