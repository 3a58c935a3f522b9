using System.Text.Json;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using SharpClip.Tests.Search;
using SharpClip.Tests.Training;
using SharpClip.Vision;

namespace SharpClip.Tests.Cli;

/// <summary>
/// <c>sharpclip eval generation</c> as a user runs it (the real CLI in a child process) on the tiny DALL-E the
/// generate tests train, the two reference CLIP fixtures (one reranks, the other judges) and four held-out captions:
/// the reports are written, every number in them can be recomputed from the per-candidate records, a rerun gives the
/// same numbers, a judge that is the reranker is one clear error, and the guidance study runs on a Stable Diffusion fixture.
/// </summary>
[Collection(TrainerRunsCollection.Name)]
public class EvalGenerationCommandTests(TinyDalleFolder dalle) : IClassFixture<TinyDalleFolder>, IDisposable
{
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    static string ClipFixture(int i) => new ReferenceModel(Fixtures.Ids("models").ElementAt(i)[0].ToString()!).WeightsPath;

    /// <summary>Four captioned PNGs in two groups, as a JSONL like emoji:val.</summary>
    string Data()
    {
        (string Caption, string Group, byte R, byte G, byte B)[] rows =
            [("a red circle", "round", 220, 20, 20), ("a blue square", "angular", 20, 20, 220), ("a green ring", "round", 20, 200, 20), ("a black box", "angular", 10, 10, 10)];
        var lines = rows.Select((r, i) =>
        {
            var pixels = new byte[24 * 24 * 3];
            for (int p = 0; p < pixels.Length; p += 3) (pixels[p], pixels[p + 1], pixels[p + 2]) = (r.R, r.G, r.B);
            new RgbImage(24, 24, pixels).SavePng(_dir.Combine($"{i}.png"));
            return JsonSerializer.Serialize(new { image = $"{i}.png", captions = new[] { r.Caption }, group = r.Group });
        });
        return _dir.File("val.jsonl", string.Join("\n", lines));
    }

    string[] Study(string output, params string[] extra) =>
        ["eval", "generation", "-m", dalle.Folder, "--judge", ClipFixture(0), "--rerank-model", ClipFixture(1), "-d", Data(), "--captions", "4",
         "--candidates", "1,2,4", "--distractors", "3", "--seed", "2", "--vocab", GenerativeFixtures.VocabPath, "-o", _dir.Combine(output), .. extra];

    [Fact]
    public void TheReportsNumbersFollowFromThePerCandidateRecords()
    {
        var (exit, stdout, err) = CliProcess.Run(Study("a"));
        Assert.True(exit == 0, err);
        Assert.Contains("reranking [4/4] generating 4 candidates", err);
        foreach (var name in new[] { "reranking.json", "reranking.md", "reranking.png", "reranking-samples.png" })
            Assert.True(File.Exists(_dir.Combine(Path.Combine("a", name))), name + "\n" + stdout);

        using var json = JsonDocument.Parse(File.ReadAllText(_dir.Combine("a/reranking.json")));
        var root = json.RootElement;
        var captions = root.GetProperty("captions").EnumerateArray().ToList();
        Assert.Equal(4, captions.Count);
        Assert.Equal(["angular", "round"], root.GetProperty("groups").EnumerateArray().Select(p => p.GetString()));
        int[] counts = [1, 2, 4];
        for (int m = 0; m < 4; m++)
        {
            var candidates = captions[m].GetProperty("candidates").EnumerateArray().ToList();
            Assert.Equal(Enumerable.Range(0, 4).Select(i => 2L + 4 * m + i), candidates.Select(c => c.GetProperty("seed").GetInt64()));
            Assert.Equal(3 - 1, captions[m].GetProperty("distractors").GetArrayLength());
            var cosines = candidates.Select(c => c.GetProperty("reranker_cosine").GetDouble()).ToList();
            for (int c = 0; c < 3; c++)   // the kept one is the first best of the first N
                Assert.Equal(cosines.Take(counts[c]).ToList().IndexOf(cosines.Take(counts[c]).Max()), captions[m].GetProperty("kept")[c].GetProperty("index").GetInt32());
        }
        var rows = root.GetProperty("rows").EnumerateArray().ToList();
        for (int c = 0; c < 3; c++)
        {
            var kept = captions.Select(p => p.GetProperty("candidates")[p.GetProperty("kept")[c].GetProperty("index").GetInt32()]).ToList();
            Assert.Equal(kept.Average(k => k.GetProperty("caption_first").GetBoolean() ? 1.0 : 0.0), rows[c].GetProperty("r_precision").GetProperty("mean").GetDouble(), 12);
            Assert.Equal(kept.Average(k => k.GetProperty("group_first").GetBoolean() ? 1.0 : 0.0), rows[c].GetProperty("group_r_precision").GetProperty("mean").GetDouble(), 12);
            Assert.Equal(kept.Average(k => 2.5 * Math.Max(0, k.GetProperty("cosine").GetDouble())), rows[c].GetProperty("clip_score").GetProperty("mean").GetDouble(), 9);
        }
        Assert.Equal(captions.Average(p => p.GetProperty("candidates").EnumerateArray().Average(k => k.GetProperty("caption_first").GetBoolean() ? 1.0 : 0.0)),
            root.GetProperty("random_candidate").GetProperty("r_precision").GetProperty("mean").GetDouble(), 12);
        Assert.Contains("| candidates N |", File.ReadAllText(_dir.Combine("a/reranking.md")));

        // The same seeds give the same study.
        Assert.True(CliProcess.Run(Study("b")) is { Exit: 0 });
        using var again = JsonDocument.Parse(File.ReadAllText(_dir.Combine("b/reranking.json")));
        Assert.Equal(root.GetProperty("captions").GetRawText(), again.RootElement.GetProperty("captions").GetRawText());
        Assert.Equal(root.GetProperty("rows").GetRawText(), again.RootElement.GetProperty("rows").GetRawText());
    }

    [Fact]
    public void AJudgeThatIsTheRerankerIsOneClearError()
    {
        var args = Study("same").Select(a => a == ClipFixture(0) ? ClipFixture(1) : a).ToArray();
        var (exit, _, err) = CliProcess.Run(args);
        Assert.Equal(1, exit);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => !l.Contains("NNPACK"));
        Assert.StartsWith("sharpclip: error:", line);
        Assert.Contains("--allow-same-judge", line);
        Assert.False(Directory.Exists(_dir.Combine("same")));
    }

    [Fact]
    public void TheGuidanceStudyRunsOnAStableDiffusionModel()
    {
        var sd = GenerativeFixtures.StableDiffusionModels.First();
        var hw = sd.GetProperty("config").GetProperty("image_hw").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        var (exit, stdout, err) = CliProcess.Run(["eval", "generation", "-m", GenerativeFixtures.PathOf(sd.GetProperty("weights").GetString()!), "--judge", ClipFixture(0),
            "-d", Data(), "--captions", "3", "--distractors", "2", "--guidance", "1,3", "--steps", "2", "--size", $"{hw[1]}x{hw[0]}",
            "--vocab", GenerativeFixtures.VocabPath, "-o", _dir.Combine("g")]);
        Assert.True(exit == 0, err);
        Assert.Contains("guidance     3: R-precision", stdout);
        using var json = JsonDocument.Parse(File.ReadAllText(_dir.Combine("g/guidance.json")));
        Assert.Equal([1.0, 3.0], json.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("guidance").GetDouble()));
        Assert.True(File.Exists(_dir.Combine("g/guidance-samples.png")));
        Assert.False(File.Exists(_dir.Combine("g/reranking.json")));
    }
}
