using System.Text.Json;
using SharpClip.Evaluation;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using SharpClip.Tests.Search;
using SharpClip.Tests.Evaluation;

namespace SharpClip.Tests.Demos.Emoji;

/// <summary>
/// <c>eval styles</c> against every manifest model: a hand-built "prepared emoji" folder of the reference eval
/// images in two styles, labelled so that the reference zero-shot probabilities imply each style's accuracy and
/// captioned so that the reference logits imply the retrieval recalls; run through the CLI.
/// </summary>
[Trait("Category", "Fidelity")]
public class StyleEvaluationTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("sharpclip-styles-").FullName;

    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory, MemberData(nameof(Models))]
    public void TableNumbersAreWhatTheReferenceOutputsImply(string id)
    {
        using var model = new ReferenceModel(id);
        var zs = model.Section("zero_shot");
        var classes = zs.GetProperty("classnames").EnumerateArray().Select(c => c.GetString()!).ToArray();
        var images = Fixtures.ImagePaths(model.Section("eval"));
        var captions = Fixtures.Strings(model.Section("eval"), "captions");
        var predicted = model.ZeroShotPredictions();

        // "google" labels follow the reference's predictions, "apple" are shifted by one class (ShiftedLabels).
        // Both tasks and all splits use the same rows.
        var root = Path.Combine(_dir, "emoji");
        var expected = new Dictionary<string, double>();
        foreach (var (style, shift) in new[] { ("google", 0), ("apple", 1) })
        {
            var dir = Path.Combine(root, "zeroshot", style);
            Directory.CreateDirectory(dir);
            var labels = ShiftedLabels.Of(predicted, classes.Length, shift);
            expected[style] = labels.Top1;
            foreach (var task in new[] { "groups", "subgroups" })
                foreach (var split in new[] { "train", "val", "test" })
                    File.WriteAllLines(Path.Combine(dir, $"{task}-{split}.csv"), ["path,label", .. labels.Rows.Select(r => $"{images[r.Image]},{classes[r.Class]}")]);
            Directory.CreateDirectory(Path.Combine(root, "test"));
            File.WriteAllLines(Path.Combine(root, "test", style + ".jsonl"), Enumerable.Range(0, images.Length)
                .Select(i => JsonSerializer.Serialize(new { image = images[i], captions = new[] { captions[i] } })));
        }

        // Retrieval over image i ↔ caption i (the first images.Length captions), from the reference logits.
        using var logits = model.Tensor("eval", "logits_per_image");
        var l = logits.to(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray();
        int Argmax(float[] v, int row, int n, int count) => Enumerable.Range(0, count).MaxBy(c => v[row * n + c]);
        int texts = captions.Length, n = images.Length;
        double textToImageR1 = Enumerable.Range(0, n).Count(t => Enumerable.Range(0, n).MaxBy(i => l[i * texts + t]) == t) / (double)n;
        double imageToTextR1 = Enumerable.Range(0, n).Count(i => Argmax(l, i, texts, n) == i) / (double)n;

        var templates = Path.Combine(_dir, "templates.json");
        File.WriteAllText(templates, zs.GetProperty("templates").GetRawText());
        var wildCsv = Path.Combine(root, "zeroshot", "apple", "groups-test.csv");
        var outDir = Path.Combine(_dir, "report");
        var (exit, stdout, err) = CliProcess.Run(["eval", "styles", "--model", model.WeightsPath, "--vocab", Fixtures.VocabPath,
            "--data-root", root, "--templates", templates, "--shots", "1,2", "--seeds", "2", "--wild", $"again={wildCsv}", "--output", outDir]);
        Assert.True(exit == 0, err);

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "styles.json")));
        var styles = doc.RootElement.GetProperty("styles").EnumerateArray().ToList();
        Assert.Equal(["google", "apple"], styles.Select(s => s.GetProperty("style").GetString())); // the emoji order, not alphabetical
        Assert.Equal(["Training", "NearShift"], styles.Select(s => s.GetProperty("role").GetString()));
        foreach (var s in styles)
        {
            var style = s.GetProperty("style").GetString()!;
            Assert.Equal(expected[style], s.GetProperty("zeroShotGroups").GetProperty("top1").GetDouble(), 9);
            Assert.Equal(expected[style], s.GetProperty("zeroShotSubgroups").GetProperty("top1").GetDouble(), 9);
            var fewShot = s.GetProperty("fewShot").EnumerateArray().ToList();
            Assert.Equal([1, 2], fewShot.Select(f => f.GetProperty("shots").GetInt32()));
            Assert.All(fewShot, f => Assert.Equal(2, f.GetProperty("perSeed").GetArrayLength()));
            Assert.All(fewShot, f => Assert.InRange(f.GetProperty("mean").GetDouble(), 0, 1));
            var probe = s.GetProperty("linearProbe");
            Assert.Equal(2 * File.ReadAllLines(Path.Combine(root, "zeroshot", style, "groups-train.csv")).Length - 2, probe.GetProperty("trainCount").GetInt32()); // train + validation refit
            var retrieval = s.GetProperty("retrieval");
            Assert.Equal(n, retrieval.GetProperty("images").GetInt32());
            Assert.Equal(textToImageR1, retrieval.GetProperty("textToImage").GetProperty("R@1").GetDouble(), 9);
            Assert.Equal(imageToTextR1, retrieval.GetProperty("imageToText").GetProperty("R@1").GetDouble(), 9);
            Assert.True(File.Exists(Path.Combine(outDir, $"fewshot-{style}.png")));
        }
        var wild = doc.RootElement.GetProperty("wild").EnumerateArray().Single();
        Assert.Equal("again", wild.GetProperty("name").GetString());
        Assert.Equal(expected["apple"], wild.GetProperty("zeroShot").GetProperty("top1").GetDouble(), 9);

        // The same zero-shot group results as a robustness report: per style, and the drop from the training style.
        using (var robustness = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "robustness.json"))))
        {
            var byStyle = robustness.RootElement.GetProperty("styles").EnumerateArray().ToDictionary(s => s.GetProperty("style").GetString()!);
            Assert.Equal(expected["google"], byStyle["google"].GetProperty("top1").GetDouble(), 9);
            Assert.Equal(expected["apple"] - expected["google"], byStyle["apple"].GetProperty("deltaTop1").GetDouble(), 9);
            Assert.Equal("again", robustness.RootElement.GetProperty("wild").EnumerateArray().Single().GetProperty("name").GetString());
        }

        var md = File.ReadAllText(Path.Combine(outDir, "styles.md"));
        string Pct(double v) => (v * 100).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"| google | Training | {Pct(expected["google"])} | {Pct(expected["google"])} |", md);
        Assert.Contains($"| apple | NearShift | {Pct(expected["apple"])} | {Pct(expected["apple"])} |", md);
        Assert.Contains("eval styles", md); // the command that made the numbers
        Assert.Contains("google", stdout);
    }

    [Fact]
    public void AnUnreadableImageIsNamedLeftOutAndTheExitCodeSaysSo()
    {
        var id = Fixtures.Ids("models").First()[0].ToString()!;
        using var model = new ReferenceModel(id);
        var images = Fixtures.ImagePaths(model.Section("eval"));
        var root = Path.Combine(_dir, "emoji");
        var dir = Directory.CreateDirectory(Path.Combine(root, "zeroshot", "google")).FullName;
        var corrupt = Path.Combine(_dir, "corrupt.png");
        File.WriteAllBytes(corrupt, [1, 2, 3, 4, 5, 6, 7, 8]);
        var rows = images.Select((p, i) => $"{p},{(i % 2 == 0 ? "even" : "odd")}").ToList();
        foreach (var task in new[] { "groups", "subgroups" })
            foreach (var split in new[] { "train", "val", "test" })
                File.WriteAllLines(Path.Combine(dir, $"{task}-{split}.csv"), ["path,label", .. rows, .. split == "test" ? new[] { $"{corrupt},odd" } : []]);
        Directory.CreateDirectory(Path.Combine(root, "test"));
        File.WriteAllLines(Path.Combine(root, "test", "google.jsonl"), images.Select(p => JsonSerializer.Serialize(new { image = p, captions = new[] { "a picture" } })));

        var outDir = Path.Combine(_dir, "report");
        var (exit, _, err) = CliProcess.Run(["eval", "styles", "--model", model.WeightsPath, "--vocab", Fixtures.VocabPath,
            "--data-root", root, "--shots", "1", "--seeds", "1", "--no-linear-probe", "--wild", Path.Combine(dir, "groups-train.csv"), "--output", outDir]);
        Assert.Equal(2, exit);                       // numbers written, but some inputs failed
        Assert.Contains("corrupt.png", err);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "styles.json")));
        var google = doc.RootElement.GetProperty("styles").EnumerateArray().Single();
        Assert.Equal(1, google.GetProperty("zeroShotGroups").GetProperty("skipped").GetInt32());
        Assert.Equal(images.Length, google.GetProperty("zeroShotGroups").GetProperty("images").GetInt32());
        Assert.Contains("corrupt.png", google.GetProperty("failures").EnumerateArray().Single().GetString());

        // The single-dataset verbs name it too.
        var jsonl = Path.Combine(_dir, "with-corrupt.jsonl");
        File.WriteAllLines(jsonl, [.. images.Append(corrupt).Select(p => JsonSerializer.Serialize(new { image = p, captions = new[] { "a picture" } }))]);
        foreach (var verb in new[] { new[] { "zeroshot", "--data", Path.Combine(dir, "groups-test.csv") }, ["retrieval", "--data", jsonl],
                     ["linear-probe", "--train", Path.Combine(dir, "groups-test.csv"), "--test", Path.Combine(dir, "groups-train.csv"), "--shots", "1", "--seeds", "1"] })
        {
            var (e, _, stderr) = CliProcess.Run(["eval", .. verb, "--model", model.WeightsPath, "--vocab", Fixtures.VocabPath, "--output", Path.Combine(_dir, verb[0])]);
            Assert.True(e == 2, $"eval {verb[0]}: exit {e}, {stderr}");
            Assert.Contains("corrupt.png", stderr);
        }
    }

    [Fact]
    public void AFolderThatIsNotPreparedIsNamedInTheError()
    {
        var (exit, _, err) = CliProcess.Run(["eval", "styles", "--model", "unused", "--data-root", _dir, "--output", Path.Combine(_dir, "o")]);
        Assert.NotEqual(0, exit);
        Assert.Contains(_dir, err);
    }
}
