using System.Text.Json;
using SharpClip.Data;
using SharpClip.Evaluation;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using SharpClip.Tests.Search;

namespace SharpClip.Tests.Evaluation;

/// <summary>
/// The robustness report against every manifest model: two hand-built "styles" of the reference eval images, labelled
/// so that the reference probabilities imply each style's accuracy, evaluated through the CLI.
/// </summary>
[Trait("Category", "Fidelity")]
public class RobustnessTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("sharpclip-robust-").FullName;

    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory, MemberData(nameof(Models))]
    public void AccuracyPerStyleIsWhatTheReferenceProbabilitiesImply(string id)
    {
        using var model = new ReferenceModel(id);
        var zs = model.Section("zero_shot");
        var classes = zs.GetProperty("classnames").EnumerateArray().Select(c => c.GetString()!).ToArray();
        var images = Fixtures.ImagePaths(model.Section("eval"));
        var argmax = model.ZeroShotPredictions();

        // "alpha" files each image under the class the reference predicts, "beta" under the next class (ShiftedLabels).
        var root = Path.Combine(_dir, "styles");
        var expected = new Dictionary<string, double>();
        var balanced = new Dictionary<string, double>();
        foreach (var (style, shift) in new[] { ("alpha", 0), ("beta", 1) })
        {
            var labels = ShiftedLabels.Of(argmax, classes.Length, shift);
            foreach (var (i, c) in labels.Rows)
            {
                var folder = Path.Combine(root, style, classes[c].Replace(' ', '_'));
                Directory.CreateDirectory(folder);
                File.Copy(images[i], Path.Combine(folder, $"{i}{Path.GetExtension(images[i])}"));
            }
            expected[style] = labels.Top1;
            balanced[style] = labels.BalancedAccuracy;
        }
        var templates = Path.Combine(_dir, "templates.json");
        File.WriteAllText(templates, zs.GetProperty("templates").GetRawText());
        var outDir = Path.Combine(_dir, "report");
        var (exit, stdout, err) = CliProcess.Run(["eval", "robustness", "--model", model.WeightsPath, "--vocab", Fixtures.VocabPath,
            "--data-root", root, "--templates", templates, "--wild", $"again={Path.Combine(root, "beta")}", "--output", outDir]);
        Assert.True(exit == 0, err);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "robustness.json")));
        var styles = doc.RootElement.GetProperty("styles").EnumerateArray().ToList();
        Assert.Equal(["alpha", "beta"], styles.Select(s => s.GetProperty("style").GetString()));
        foreach (var s in styles)
            Assert.Equal(expected[s.GetProperty("style").GetString()!], s.GetProperty("top1").GetDouble(), 9);
        Assert.Equal(expected["beta"] - expected["alpha"], styles[1].GetProperty("deltaTop1").GetDouble(), 9); // alpha is the reference
        // The wild column: beta's images again, scored on their own (here: the same) classes by balanced accuracy.
        var wild = doc.RootElement.GetProperty("wild").EnumerateArray().Single();
        Assert.Equal("again", wild.GetProperty("name").GetString());
        Assert.Equal(balanced["beta"], wild.GetProperty("balancedAccuracy").GetDouble(), 9);
        Assert.Equal(expected["beta"], wild.GetProperty("top1").GetDouble(), 9);
        Assert.Equal(1.0 / classes.Length, wild.GetProperty("chance").GetDouble(), 12);
        Assert.Equal((expected["alpha"] + expected["beta"]) / 2, doc.RootElement.GetProperty("shiftMeanTop1").GetDouble(), 9); // wild sets stay out of it
        var md = File.ReadAllText(Path.Combine(outDir, "robustness.md"));
        Assert.Contains("| model | alpha | beta | mean under shift | again (wild)† |", md);
        Assert.Contains("## Wild: again", md);
        Assert.Contains("wild again", stdout);
        Assert.Contains("alpha", stdout);
    }

    [Fact]
    public void StylesAreAlignedOnTheFirstStylesClassesByName()
    {
        var a = new LabeledDataset("a", ["cat", "dog"], [new("1", new ImageFile("/x/1.png"), 0), new("2", new ImageFile("/x/2.png"), 1)]);
        var b = new LabeledDataset("b", ["dog", "cat"], [new("3", new ImageFile("/x/3.png"), 0)]);
        var (classes, aligned) = RobustnessEvaluator.Align([new StyleSet("a", null, a), new StyleSet("b", null, b)]);
        Assert.Equal(["cat", "dog"], classes);
        Assert.Equal(1, aligned[1].Dataset.Items[0].Label); // "dog" in b's order → index 1 in the common list
        var c = new LabeledDataset("c", ["cat", "bird"], [new("4", new ImageFile("/x/4.png"), 1)]);
        var e = Assert.Throws<InvalidDataException>(() => RobustnessEvaluator.Align([new StyleSet("a", null, a), new StyleSet("c", null, c)]));
        Assert.Contains("'bird'", e.Message);
    }
}
