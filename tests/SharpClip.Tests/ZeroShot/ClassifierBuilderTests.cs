using SharpClip.Evaluation;
using SharpClip.Pipelines;
using SharpClip.Scoring;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using SharpClip.Data;
using SharpClip.ZeroShot;
using TorchSharp;

namespace SharpClip.Tests.ZeroShot;

/// <summary>
/// The one zero-shot builder: <c>classify</c> and <c>eval zeroshot</c> get the same weights from it, with or without
/// the cache; classes may have different numbers of prompts; it reports progress and stops when cancelled.
/// </summary>
[Trait("Category", "Fidelity")]
public sealed class ClassifierBuilderTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("sharpclip-classifier-").FullName;

    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static float[] Values(ZeroShotClassifier classifier) => classifier.Weights.data<float>().ToArray();

    [Theory, MemberData(nameof(Models))]
    public void ClassifyAndEvalZeroShotBuildIdenticalWeights(string id)
    {
        using var model = new ReferenceModel(id);
        var zs = model.Section("zero_shot");
        var classes = Fixtures.Strings(zs, "classnames");
        var templates = new PromptTemplates(Fixtures.Strings(zs, "templates"));
        var images = Fixtures.ImagePaths(model.Section("eval"));
        var dataset = new LabeledDataset("eval", classes, images.Select((p, i) => new LabeledImage($"{i}", new ImageFile(p), i % classes.Length)).ToList());
        using var pipeline = ClipPipeline.Load(model.WeightsPath, new ClipPipelineOptions { VocabPath = Fixtures.VocabPath });
        var cached = new EvaluationOptions { CacheDirectory = Path.Combine(_dir, "cache") };

        using var classify = FileClassifier.BuildClassifier(pipeline, classes, templates);
        using var eval = ZeroShotEvaluator.BuildClassifier(pipeline, dataset, templates);
        using var evalWritingCache = ZeroShotEvaluator.BuildClassifier(pipeline, dataset, templates, cached);
        using var evalFromCache = ZeroShotEvaluator.BuildClassifier(pipeline, dataset, templates, cached);
        Assert.Equal(Values(classify), Values(eval));
        Assert.Equal(Values(classify), Values(evalWritingCache));
        Assert.Equal(Values(classify), Values(evalFromCache));
        Assert.Equal(classes, classify.ClassNames);
        Assert.Equal(classes, evalFromCache.ClassNames);
        using var expected = model.Tensor("zero_shot", "weights"); // [D, C], the reference's float32 ensembling
        TensorAssert.Close(expected, classify.Weights, 1e-4, $"{id} classify weights");
    }

    [Theory, MemberData(nameof(Models))]
    public void EachClassAveragesItsOwnNumberOfPrompts(string id)
    {
        using var model = new ReferenceModel(id);
        using var pipeline = ClipPipeline.Load(model.WeightsPath, new ClipPipelineOptions { VocabPath = Fixtures.VocabPath });
        IReadOnlyList<IReadOnlyList<string>> lists =
        [
            ["a photo of a cat."],
            ["a photo of a rocket.", "a blurry photo of the rocket.", "itap of a rocket."],
            ["a bicycle.", "a photo of a bicycle."],
        ];
        var prompts = new ClassPrompts(["cat", "rocket", "bicycle"], lists);
        var reports = new List<int>();
        using var classifier = ClassifierBuilder.Build(pipeline.Model, pipeline.Tokenizer, prompts, batchSize: 2, new SyncProgress(reports.Add));
        Assert.Equal([2, 4, 6], reports);
        Assert.Equal(2.0, prompts.PromptsPerClass);
        for (int c = 0; c < lists.Count; c++)
        {
            using var scope = torch.NewDisposeScope();
            var embedded = pipeline.EmbedTexts(lists[c]); // [K_c, D], unit rows
            var mean = embedded.mean([0]);
            var column = mean / mean.norm();
            TensorAssert.Close(column, classifier.Weights.select(1, c), 1e-6, $"{id} class {c}");
        }
    }

    [Theory, MemberData(nameof(Models))]
    public void ACancelledBuildStopsBeforeEmbedding(string id)
    {
        using var model = new ReferenceModel(id);
        using var pipeline = ClipPipeline.Load(model.WeightsPath, new ClipPipelineOptions { VocabPath = Fixtures.VocabPath });
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var reports = new List<int>();
        Assert.Throws<OperationCanceledException>(() =>
            ClassifierBuilder.Build(pipeline.Model, pipeline.Tokenizer, ClassPrompts.FromTemplates(["cat", "dog"], PromptTemplates.PhotoOf),
                progress: new SyncProgress(reports.Add), cancellationToken: cancelled.Token));
        Assert.Empty(reports);
    }

    [Fact]
    public void ClassPromptsRefuseWhatCannotMakeAClassifier()
    {
        Assert.Contains("no class names", Assert.Throws<ArgumentException>(() => new ClassPrompts([], [])).Message);
        Assert.Contains("2 prompt lists for 1 classes", Assert.Throws<ArgumentException>(() => new ClassPrompts(["a"], [["x"], ["y"]])).Message);
        Assert.Contains("class 'b' has no prompts", Assert.Throws<ArgumentException>(() => new ClassPrompts(["a", "b"], [["x"], []])).Message);
        // The data's own prompts unless templates are named.
        IReadOnlyList<IReadOnlyList<string>> own = [["one a"], ["one b", "two b"]];
        Assert.Same(own, ClassPrompts.Choose(["a", "b"], null, own).Prompts);
        Assert.Equal(["a photo of a a."], ClassPrompts.Choose(["a", "b"], null, null).Prompts[0]);
        Assert.Equal(["{a}"], ClassPrompts.Choose(["a", "b"], new PromptTemplates(["{{}}"]), own).Prompts[0]);
    }

    sealed class SyncProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
