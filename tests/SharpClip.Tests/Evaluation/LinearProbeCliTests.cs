using SharpClip.Data;
using System.Text.Json;
using SharpClip.Evaluation;
using SharpClip.Plotting;
using SharpClip.Pipelines;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Search;
using SharpClip.Vision;

namespace SharpClip.Tests.Evaluation;

/// <summary>
/// <c>sharpclip eval linear-probe</c> in a child process against every manifest model, on small generated
/// class-per-folder sets: the reports exist, and every number in probe.json is what the library computes in this
/// process from the same images. Bad input ends with one error line and a non-zero exit.
/// </summary>
public class LinearProbeCliTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("sharpclip-probecli-").FullName;

    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly (string Name, byte R, byte G, byte B)[] Colours = [("red", 200, 40, 40), ("green", 40, 170, 60), ("blue", 40, 70, 200)];

    /// <summary>A class-per-folder tree: per class, noisy squares of its colour on a grey background, seeded.</summary>
    string Tree(string name, int perClass, int seed)
    {
        var root = Path.Combine(_dir, name);
        var rng = new Random(seed);
        foreach (var (cls, r, g, b) in Colours)
        {
            Directory.CreateDirectory(Path.Combine(root, cls));
            for (int i = 0; i < perClass; i++)
            {
                var img = new RgbImage(40, 40);
                int x0 = rng.Next(0, 16), y0 = rng.Next(0, 16), size = rng.Next(14, 24);
                for (int y = 0; y < 40; y++)
                    for (int x = 0; x < 40; x++)
                    {
                        bool inside = x >= x0 && x < x0 + size && y >= y0 && y < y0 + size;
                        int p = (y * 40 + x) * 3, noise = rng.Next(-40, 41);
                        img.Pixels[p] = (byte)Math.Clamp((inside ? r : 128) + noise, 0, 255);
                        img.Pixels[p + 1] = (byte)Math.Clamp((inside ? g : 128) + noise, 0, 255);
                        img.Pixels[p + 2] = (byte)Math.Clamp((inside ? b : 128) + noise, 0, 255);
                    }
                img.SavePng(Path.Combine(root, cls, $"{i:D2}.png"));
            }
        }
        return root;
    }

    [Theory, MemberData(nameof(Models))]
    public void ReportsCarryTheLibrarysNumbers(string id)
    {
        var weights = Fixtures.PathOf(Fixtures.Entry("models", id).GetProperty("weights").GetString()!);
        var train = Tree("train", 10, 1);
        var test = Tree("test", 6, 2);
        var outDir = Path.Combine(_dir, "report");
        var (exit, stdout, err) = CliProcess.Run("eval", "linear-probe", "--model", weights, "--vocab", Fixtures.VocabPath,
            "--train", train, "--test", test, "--shots", "1,2,4", "--seeds", "2", "--cache", "none", "--output", outDir);
        Assert.True(exit == 0, err);
        Assert.Contains("linear probe: C=", stdout);
        // The fits report as they go (the full probe was silent for minutes on large sets): every C of the sweep, the final fit, each k-shot draw.
        var fits = err.Split('\n').Where(l => l.TrimStart().StartsWith("probe: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(LinearProbe.CoarseExponents.Count + LinearProbe.RefineSteps, fits.Count(l => l.Contains("probe: C ")));
        Assert.Contains(fits, l => l.Contains($"C {LinearProbe.CoarseExponents.Count + LinearProbe.RefineSteps}/{LinearProbe.CoarseExponents.Count + LinearProbe.RefineSteps}:"));
        Assert.Single(fits, l => l.Contains("final fit"));
        Assert.Equal(3 * 2, fits.Count(l => l.Contains("-shot seed")));

        // The same computation in this process.
        using var pipeline = ClipPipeline.Load(weights, new ClipPipelineOptions { VocabPath = Fixtures.VocabPath });
        var trainSet = LabeledDatasets.FromFolderTree(train);
        var testSet = LabeledDatasets.FromFolderTree(test);
        var trainF = LabeledFeatures.From(ImageFeatures.Extract(pipeline, trainSet.Items.Select(i => i.Image).ToList()), trainSet);
        var testF = LabeledFeatures.From(ImageFeatures.Extract(pipeline, testSet.Items.Select(i => i.Image).ToList()), testSet);
        var probe = LinearProbe.Run(trainF, null, testF, Colours.Length);
        var fewShot = LinearProbe.FewShot(trainF, testF, Colours.Length, [1, 2, 4], seeds: 2);
        var zeroShot = ZeroShotEvaluator.Evaluate(pipeline, testSet);

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "probe.json")));
        var root = doc.RootElement;
        var lp = root.GetProperty("linearProbe");
        Assert.Equal(probe.C, lp.GetProperty("c").GetDouble());
        Assert.Equal(probe.ValidationAccuracy, lp.GetProperty("validationAccuracy").GetDouble());
        Assert.Equal(probe.TestAccuracy, lp.GetProperty("testAccuracy").GetDouble());
        Assert.Equal(probe.TrainCount, lp.GetProperty("trainCount").GetInt32());
        var sweep = lp.GetProperty("sweep").EnumerateArray().ToList();
        Assert.Equal(probe.Sweep.All.Select(p => (p.C, p.ValidationAccuracy)),
            sweep.Select(s => (s.GetProperty("c").GetDouble(), s.GetProperty("validationAccuracy").GetDouble())));
        Assert.Equal(zeroShot.Metrics.Top1, root.GetProperty("zeroShotTop1").GetDouble());
        var points = root.GetProperty("fewShot").EnumerateArray().ToList();
        Assert.Equal(fewShot.Select(p => p.Shots), points.Select(p => p.GetProperty("shots").GetInt32()));
        Assert.Equal(fewShot.Select(p => p.MeanAccuracy), points.Select(p => p.GetProperty("mean").GetDouble()));
        Assert.Equal(fewShot.Select(p => p.PerSeed), points.Select(p => p.GetProperty("perSeed").EnumerateArray().Select(v => v.GetDouble()).ToList()));

        // Markdown for people, the plot with its text.
        var md = File.ReadAllText(Path.Combine(outDir, "probe.md"));
        Assert.Contains("| shots per class | mean accuracy | std over seeds |", md);
        Assert.Contains("(chosen)", md);
        var png = ImageDecoder.Decode(Path.Combine(outDir, "fewshot.png")).ToRgb();
        Assert.Equal(FewShotPlot.Render(fewShot, zeroShot.Metrics.Top1, $"Few-shot linear probe vs zero-shot: {testSet.Name}").Pixels, png.Pixels);
    }

    /// <summary>
    /// <c>--train-samples 6</c> of 3 classes × 10: the probes fit on 2 images per class (the same 6 on every run); the
    /// numbers are the library's on that sample.
    /// </summary>
    [Fact]
    public void TrainSamplesSubsamplesTheTrainingSetPerClass()
    {
        var weights = Fixtures.PathOf(Fixtures.Array("models").First().GetProperty("weights").GetString()!);
        var train = Tree("train", 10, 1);
        var test = Tree("test", 4, 2);
        var outDir = Path.Combine(_dir, "sampled");
        var (exit, _, err) = CliProcess.Run("eval", "linear-probe", "--model", weights, "--vocab", Fixtures.VocabPath, "--train", train, "--train-samples", "6",
            "--test", test, "--shots", "1", "--seeds", "1", "--cache", "none", "--output", outDir);
        Assert.True(exit == 0, err);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "probe.json")));
        Assert.Equal(6, doc.RootElement.GetProperty("linearProbe").GetProperty("trainCount").GetInt32());

        var sample = LabeledDatasets.FromFolderTree(train).StratifiedSample(6, 0);
        Assert.Equal([2, 2, 2], sample.Items.GroupBy(i => i.Label).OrderBy(g => g.Key).Select(g => g.Count()));
        using var pipeline = ClipPipeline.Load(weights, new ClipPipelineOptions { VocabPath = Fixtures.VocabPath });
        var testSet = LabeledDatasets.FromFolderTree(test);
        var probe = LinearProbe.Run(LabeledFeatures.From(ImageFeatures.Extract(pipeline, sample.Items.Select(i => i.Image).ToList()), sample), null,
            LabeledFeatures.From(ImageFeatures.Extract(pipeline, testSet.Items.Select(i => i.Image).ToList()), testSet), Colours.Length);
        Assert.Equal(probe.TestAccuracy, doc.RootElement.GetProperty("linearProbe").GetProperty("testAccuracy").GetDouble());
    }

    public static TheoryData<string[], string> BadInputs => new()
    {
        { ["--train", "{dir}/no-such-folder", "--test", "{dir}/test"], "no-such-folder" },
        { ["--train", "{dir}/train", "--test", "{dir}/test", "--shots", "1,two"], "--shots" },
        { ["--train", "{dir}/train", "--test", "{dir}/test", "--seeds", "0"], "--seeds" },
        { ["--train", "{dir}/train", "--test", "{dir}/test", "--seeds", "many"], "--seeds" },
        { ["--train", "{dir}/train", "--test", "{dir}/test", "--train-samples", "0"], "--train-samples" },
    };

    [Theory, MemberData(nameof(BadInputs))]
    public void BadInputEndsWithOneErrorLine(string[] args, string named)
    {
        Tree("train", 2, 1);
        Tree("test", 2, 2);
        var weights = Fixtures.PathOf(Fixtures.Array("models").First().GetProperty("weights").GetString()!);
        var (exit, _, err) = CliProcess.Run(["eval", "linear-probe", "--model", weights, "--vocab", Fixtures.VocabPath, "--output", Path.Combine(_dir, "out"),
            .. args.Select(a => a.Replace("{dir}", _dir))]);
        Assert.NotEqual(0, exit);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one error line, got:\n{err}");
        Assert.Contains(named, lines[0]);
        Assert.False(File.Exists(Path.Combine(_dir, "out", "probe.json")));
    }
}
