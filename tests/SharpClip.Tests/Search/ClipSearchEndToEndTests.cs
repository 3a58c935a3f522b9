using System.Text.Json;
using SharpClip.Pipelines;
using SharpClip.Tests.Infrastructure;

namespace SharpClip.Tests.Search;

/// <summary>
/// Image search with a real CLIP model (each manifest model, converted to a model folder with its vocabulary):
/// `index` then `search` in real processes must return the order the model itself gives, computed here directly from
/// <see cref="ClipPipeline"/> embeddings by brute force.
/// </summary>
[Trait("Category", "Fidelity")]
public class ClipSearchEndToEndTests : IDisposable
{
    readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    [Theory, MemberData(nameof(Models))]
    public void TextSearchReturnsTheModelsRanking(string id)
    {
        var entry = Fixtures.Entry("models", id);
        var photos = dir["photos"];
        Directory.CreateDirectory(photos);
        foreach (var image in Fixtures.Array("images").Where(i => i.GetProperty("format").GetString() is "PNG" or "JPEG").Take(8))
        {
            var src = Fixtures.PathOf(image.GetProperty("file").GetString()!);
            File.Copy(src, Path.Combine(photos, Path.GetFileName(src)));
        }
        var model = dir["model"];
        var (exit, _, err) = CliProcess.Run("convert", Fixtures.PathOf(entry.GetProperty("weights").GetString()!), model, "--vocab", Fixtures.VocabPath);
        Assert.True(exit == 0, err);
        (exit, _, err) = CliProcess.Run("index", photos, "--model", model, "--index", dir["i.db"]);
        Assert.True(exit == 0, err);
        string query = entry.GetProperty("eval").GetProperty("captions")[0].GetString()!;
        (exit, var stdout, err) = CliProcess.Run("search", "--index", dir["i.db"], query, "-k", "5", "--json");
        Assert.True(exit == 0, err);
        var got = JsonDocument.Parse(stdout).RootElement.GetProperty("results").EnumerateArray()
            .Select(r => (Path: r.GetProperty("path").GetString()!, Score: r.GetProperty("score").GetSingle())).ToList();

        using var pipeline = ClipPipeline.Load(model);
        var files = Directory.GetFiles(photos).Order(StringComparer.Ordinal).ToList();
        var images = pipeline.EmbedImages(files);
        var text = pipeline.EmbedText(query);
        var expected = images.Select(r => (Path: Path.GetFullPath(r.Source), Score: r.Vector!.Zip(text, (a, b) => a * b).Sum()))
            .OrderByDescending(x => x.Score).Take(5).ToList();
        Assert.Equal(expected.Count, got.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Score, got[i].Score, 1e-4);
            // equal scores may swap places; otherwise the order must be the model's
            if (i + 1 < expected.Count && expected[i].Score - expected[i + 1].Score > 1e-4)
                Assert.Equal(expected[i].Path, Path.GetFullPath(got[i].Path));
        }
    }
}
