using SharpClip.ZeroShot;
using System.Text.Json;
using SharpClip.Data;
using SharpClip.Demos.Synthetic;
using SharpClip.Evaluation;
using SharpClip.Pipelines;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using SharpClip.Tests.Search;
using SharpClip.Vision;

namespace SharpClip.Tests.Evaluation;

/// <summary>
/// Zero-shot evaluation against every manifest model: the classifier weights must be the reference's
/// (<c>zero_shot.weights</c>), and the confusion matrix must be the one the reference probabilities
/// (<c>zero_shot.probs</c>) imply for the labels the test assigns.
/// </summary>
[Trait("Category", "Fidelity")]
public class ZeroShotEvaluationTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("sharpclip-zeroshot-").FullName;

    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory, MemberData(nameof(Models))]
    public void ClassifierWeightsMatchTheReferenceAndComeBackFromTheCache(string id)
    {
        using var model = new ReferenceModel(id);
        var zs = model.Section("zero_shot");
        var classes = Fixtures.Strings(zs, "classnames");
        var templates = new PromptTemplates(Fixtures.Strings(zs, "templates"));
        using var pipeline = ClipPipeline.Load(model.WeightsPath, new ClipPipelineOptions { VocabPath = Fixtures.VocabPath });
        var prompts = classes.Select(c => (IReadOnlyList<string>)templates.For(c).ToList()).ToList();
        var cache = Path.Combine(_dir, "cache");
        using var expected = model.Tensor("zero_shot", "weights"); // [D, C]
        using (var built = pipeline.BuildClassifier(new ClassPrompts(classes, prompts), cache))
            TensorAssert.Close(expected, built.Weights, 1e-4, $"{id} classifier weights");
        var file = Assert.Single(Directory.GetFiles(cache, "classifier-*.safetensors"));
        var stamp = File.GetLastWriteTimeUtc(file);
        using (var again = pipeline.BuildClassifier(new ClassPrompts(classes, prompts), cache))
            TensorAssert.Close(expected, again.Weights, 1e-4, $"{id} cached classifier weights");
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(file));
        // Other templates: another key, another file.
        using (pipeline.BuildClassifier(new ClassPrompts(classes, classes.Select(c => (IReadOnlyList<string>)[c]).ToList()), cache)) { }
        Assert.Equal(2, Directory.GetFiles(cache, "classifier-*.safetensors").Length);
    }

    [Theory, MemberData(nameof(Models))]
    public void ConfusionMatrixIsTheOneTheReferenceProbabilitiesImply(string id)
    {
        using var model = new ReferenceModel(id);
        var zs = model.Section("zero_shot");
        var classes = Fixtures.Strings(zs, "classnames");
        var images = Fixtures.ImagePaths(model.Section("eval"));
        var argmax = model.ZeroShotPredictions();
        Assert.Equal(images.Length, argmax.Length);
        // Every image under every class: row c of the confusion matrix is then the histogram of the reference argmax.
        var items = classes.SelectMany((_, c) => images.Select((img, i) => new LabeledImage($"{c}/{i}", new ImageFile(img), c))).ToList();
        var dataset = new LabeledDataset("all-under-all", classes, items);
        using var pipeline = ClipPipeline.Load(model.WeightsPath, new ClipPipelineOptions { VocabPath = Fixtures.VocabPath });
        var result = ZeroShotEvaluator.Evaluate(pipeline, dataset, new PromptTemplates(Fixtures.Strings(zs, "templates")));
        Assert.Equal(0, result.Skipped);
        for (int c = 0; c < classes.Length; c++)
            for (int j = 0; j < classes.Length; j++)
                Assert.Equal(argmax.Count(a => a == j), result.Metrics.Confusion[c, j]);
        Assert.Equal(1.0 / classes.Length, result.Metrics.Top1, 9);
    }

    [Theory, MemberData(nameof(Models))]
    public void CliWritesReportsFromAFolderTreeAndReusesItsCaches(string id)
    {
        using var model = new ReferenceModel(id);
        var zs = model.Section("zero_shot");
        var classes = Fixtures.Strings(zs, "classnames");
        var images = Fixtures.ImagePaths(model.Section("eval"));
        var argmax = model.ZeroShotPredictions();
        // Class c's folder holds the images the reference assigns to c, plus image 0 (so no folder is empty).
        var tree = Path.Combine(_dir, "tree");
        var truth = new List<(int Label, int Image)>();
        for (int c = 0; c < classes.Length; c++)
        {
            var folder = Path.Combine(tree, classes[c].Replace(' ', '_'));
            Directory.CreateDirectory(folder);
            foreach (var i in Enumerable.Range(0, images.Length).Where(i => argmax[i] == c || i == 0))
            {
                File.Copy(images[i], Path.Combine(folder, $"{i}{Path.GetExtension(images[i])}"));
                truth.Add((c, i));
            }
        }
        var templates = Path.Combine(_dir, "templates.json");
        File.WriteAllText(templates, zs.GetProperty("templates").GetRawText());
        var outDir = Path.Combine(_dir, "report");
        string[] args = ["eval", "zeroshot", "--model", model.WeightsPath, "--vocab", Fixtures.VocabPath, "--data", tree, "--templates", templates, "--output", outDir];
        var (exit, stdout, err) = CliProcess.Run(args);
        Assert.True(exit == 0, err);
        double expectedTop1 = truth.Count(t => argmax[t.Image] == t.Label) / (double)truth.Count;
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "zeroshot.json"))))
        {
            var r = doc.RootElement.GetProperty("results")[0];
            Assert.Equal(truth.Count, r.GetProperty("images").GetInt32());
            Assert.Equal(expectedTop1, r.GetProperty("top1").GetDouble(), 9);
        }
        Assert.True(File.Exists(Path.Combine(outDir, "zeroshot.md")));
        var png = Assert.Single(Directory.GetFiles(outDir, "confusion-*.png"));
        var decoded = ImageDecoder.Decode(png);
        Assert.True(decoded.Width > classes.Length && decoded.Height > classes.Length);
        var csv = File.ReadAllLines(Assert.Single(Directory.GetFiles(outDir, "confusion-*.csv")));
        Assert.Equal(classes.Length + 1, csv.Length);
        var caches = Directory.GetFiles(Path.Combine(outDir, "cache")).Select(File.GetLastWriteTimeUtc).ToList();
        Assert.Equal(2, caches.Count); // features + classifier
        (exit, var again, err) = CliProcess.Run(args);
        Assert.True(exit == 0, err);
        Assert.Equal(caches, Directory.GetFiles(Path.Combine(outDir, "cache")).Select(File.GetLastWriteTimeUtc).ToList());
        Assert.Equal(stdout, again);
    }

    [Fact]
    public void MetricsOfAHandBuiltScoreMatrix()
    {
        // 3 classes; scores chosen so the predictions are: item0 (true 0) → 0, item1 (true 0) → 1, item2 (true 1) → 1,
        // item3 (true 2) → 0 with its true class second, item4 (true 2) → 2.
        float[] scores =
        [
            .9f, .1f, .0f,
            .2f, .7f, .1f,
            .1f, .8f, .1f,
            .6f, .1f, .3f,
            .0f, .1f, .9f,
        ];
        var m = ClassificationMetrics.Compute(scores, [0, 0, 1, 2, 2], ["a", "b", "c"]);
        Assert.Equal(3.0 / 5, m.Top1, 12);
        Assert.Equal(1.0, m.Top5, 12); // 3 classes: everything is in the top 5
        Assert.Equal((0.5 + 1.0 + 0.5) / 3, m.MeanPerClassRecall, 12);
        Assert.Equal(new[,] { { 1, 1, 0 }, { 0, 1, 0 }, { 1, 0, 1 } }, m.Confusion);
        Assert.Equal(0.5, m.PerClass[1].Precision, 12); // b predicted twice, right once
    }

    [Fact]
    public void Top5CountsTheTrueClassAmongTheFiveBest()
    {
        int c = 7;
        var scores = new float[2 * c];
        for (int j = 0; j < c; j++) { scores[j] = j; scores[c + j] = j; } // class 6 best, 0 worst
        var m = ClassificationMetrics.Compute(scores, [2, 1], Enumerable.Range(0, c).Select(i => $"k{i}").ToList());
        Assert.Equal(0.5, m.Top5, 12); // label 2 is fifth best, label 1 sixth
        Assert.Equal(0.0, m.Top1, 12);
    }

    [Fact]
    public void SyntheticTasksLabelEveryScene()
    {
        var options = new SyntheticShapesOptions { HeldOutCount = 40, ImageSize = 32 };
        var tasks = LabeledDatasets.Open("synthetic:shapes:heldout", SyntheticShapesSpec.Options(options));
        var shapes = new SyntheticShapes(options);
        Assert.Equal(shapes.ZeroShotTasks.Count, tasks.Count);
        var shape = Assert.Single(LabeledDatasets.Open("synthetic:shapes:heldout#shape", SyntheticShapesSpec.Options(options)));
        var split = shapes.Split(SyntheticSplit.HeldOut);
        Assert.Equal(40, shape.Items.Count);
        for (int i = 0; i < 40; i++) Assert.Equal((int)split.Scene(i).Shape, shape.Items[i].Label);
        Assert.NotNull(shape.ClassPrompts);
        Assert.Throws<ArgumentException>(() => LabeledDatasets.Open("synthetic:shapes#nope", SyntheticShapesSpec.Options(options)));
    }
}
