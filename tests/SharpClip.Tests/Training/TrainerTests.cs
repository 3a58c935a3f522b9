using SharpClip.Checkpoints;
using SharpClip.Data;
using SharpClip.Demos.Synthetic;
using SharpClip.Evaluation;
using SharpClip.Modeling;
using SharpClip.Tests.Data;
using SharpClip.Training;
using TorchSharp;
using Xunit.Abstractions;

namespace SharpClip.Tests.Training;

[Collection(TrainerRunsCollection.Name)]
public class TrainerTests(ITestOutputHelper output)
{
    // A run small enough for a unit test: 16×16 synthetic scenes, 192 training pairs (12 batches of 16 per epoch, so 20
    // steps cross an epoch boundary), a 2-block ViT and text tower, evaluation every 4 steps on 32 validation pairs.
    static TrainingConfig Small(string outputDir) => new()
    {
        Output = outputDir,
        Architecture = new ClipConfig
        {
            EmbedDim = 16, ImageResolution = 16, VisionLayers = [2], VisionWidth = 64, VisionPatchSize = 8,
            ContextLength = 16, VocabSize = 1000, TextWidth = 64, TextHeads = 1, TextLayers = 2,
        },
        DataOptions = SyntheticShapesSpec.Options(
            new SyntheticShapesOptions { ImageSize = 16, Supersampling = 1, TrainCount = 192, ValidationCount = 32, HeldOutCount = 32, ShardSize = 64 }),
        VocabSize = 600, VocabSamples = 192,
        BatchSize = 16, Steps = 20, WarmupSteps = 3, LearningRate = 5e-4,
        SaveEvery = 5, EvalEvery = 4, EvalSamples = 32, Workers = 2, Seed = 5,
    };

    static TrainingResult Train(TrainingConfig config, long? cancelAfter = null, List<string>? warnings = null, List<TrainingEvent>? events = null)
    {
        using var cts = new CancellationTokenSource();
        return Trainer.Run(config, new SyncProgress(e =>
        {
            events?.Add(e);
            if (e is StepFinished s && s.Metrics.Step == cancelAfter) cts.Cancel();
            if (e is TrainingMessage { IsWarning: true } w) warnings?.Add(w.Text);
        }), cts.Token, TrainingEvaluator.Create);
    }

    [Fact]
    public void AnInterruptedRunResumesToTheSameLossCurve()
    {
        using var dir = new TempDir();
        var straight = Train(Small(Path.Combine(dir.Path, "straight")));
        Assert.False(straight.Interrupted);
        Assert.Equal(20, straight.Losses.Count);

        var config = Small(Path.Combine(dir.Path, "interrupted"));
        var first = Train(config, cancelAfter: 7);
        Assert.True(first.Interrupted);
        Assert.Equal(7, first.Position.Step);
        Assert.EndsWith("step-00000007", first.CheckpointDirectory);
        var second = Train(config with { Resume = true });
        Assert.False(second.Interrupted);
        Assert.Equal(20, second.Position.Step);

        var resumed = first.Losses.Concat(second.Losses).ToList();
        Assert.Equal(straight.Losses.Select(l => l.Step), resumed.Select(l => l.Step));
        for (int i = 0; i < resumed.Count; i++)
            Assert.True(Math.Abs(straight.Losses[i].Loss - resumed[i].Loss) <= 1e-6,
                $"step {resumed[i].Step}: uninterrupted loss {straight.Losses[i].Loss:R}, resumed {resumed[i].Loss:R}");
        output.WriteLine($"losses: {string.Join(" ", resumed.Select(l => l.Loss.ToString("F4")))}");

        // metrics.jsonl holds each step once, in order, and the evaluations.
        var records = MetricsLog.Read(Path.Combine(config.Output, MetricsLog.FileName));
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), records.Where(r => r.ContainsKey("loss")).Select(r => (long)r["step"]!));
        Assert.Contains(records, r => r.ContainsKey("eval") && (long)r["step"]! == 20);
    }

    [Fact]
    public void ADamagedNewestCheckpointResumesFromThePreviousOneWithTheSameResult()
    {
        using var dir = new TempDir();
        var straight = Train(Small(Path.Combine(dir.Path, "straight")) with { Steps = 12, EvalData = null });
        var config = Small(Path.Combine(dir.Path, "damaged")) with { Steps = 12, EvalData = null, KeepCheckpoints = 3 };
        var first = Train(config, cancelAfter: 7);
        Assert.Equal(7, first.Position.Step);
        // The newest checkpoint (step 7) loses its tail; step 5's is intact.
        var model = Path.Combine(first.CheckpointDirectory!, TrainingCheckpoint.ModelFile);
        File.WriteAllBytes(model, File.ReadAllBytes(model)[..1000]);

        var warnings = new List<string>();
        var second = Train(config with { Resume = true }, warnings: warnings);
        Assert.Contains(warnings, w => w.Contains(first.CheckpointDirectory!));
        Assert.Equal(6, second.Losses[0].Step);
        foreach (var (step, loss) in second.Losses)
            Assert.True(Math.Abs(straight.Losses[(int)step - 1].Loss - loss) <= 1e-6, $"step {step}: {straight.Losses[(int)step - 1].Loss:R} vs {loss:R}");
    }

    [Fact]
    public void TheRunFolderIsAModelFolderOtherVerbsLoad()
    {
        using var dir = new TempDir();
        var config = Small(Path.Combine(dir.Path, "run")) with { Steps = 3, EvalData = null, MicroBatchSize = 8, Objective = ObjectiveKind.SigLip };
        var events = new List<TrainingEvent>();
        var result = Train(config, events: events);

        // Each step is reported once, in order, as the very record metrics.jsonl holds; then the final checkpoint.
        var steps = events.OfType<StepFinished>().Select(s => s.Metrics).ToList();
        Assert.Equal([1L, 2L, 3L], steps.Select(s => s.Step));
        Assert.All(steps, s => Assert.Equal(3, s.TotalSteps));
        Assert.Equal(steps.Select(s => s.ToJson().ToJsonString()), MetricsLog.Read(Path.Combine(config.Output, MetricsLog.FileName)).Select(r => r.ToJsonString()));
        Assert.Equal(3, Assert.Single(events.OfType<CheckpointSaved>()).Step);
        Assert.Empty(events.OfType<EvaluationFinished>());
        Assert.IsType<TrainingMessage>(events[^1]);   // the data statistics close the run

        Assert.True(ClipModelFolder.IsModelFolder(result.OutputDirectory));
        using var loaded = CheckpointLoader.Read(result.OutputDirectory);
        Assert.Equal(config.Architecture! with { VocabSize = loaded.ResolvedConfig.VocabSize }, loaded.ResolvedConfig);
        Assert.NotNull(loaded.VocabPath);
        var tokenizer = SharpClip.Text.ClipTokenizer.Load(loaded.VocabPath!);
        Assert.Equal(loaded.ResolvedConfig.VocabSize, tokenizer.VocabSize);
        using var model = ClipModel.FromStateDict(loaded.StateDict, loaded.SourcePath, loaded.ResolvedConfig);
        using var scope = torch.NewDisposeScope();
        var text = model.EmbedTexts(tokenizer.Tokenize(["a red circle"], loaded.ResolvedConfig.ContextLength));
        Assert.Equal([1L, 16L], text.shape);
        Assert.Equal(16, loaded.Preprocessing!.CropSize);
        // SigLIP starts its temperature at log 10 (the saved value has moved by a few small steps).
        Assert.InRange(loaded.StateDict["logit_scale"].item<float>(), Math.Log(10) - 0.05, Math.Log(10) + 0.05);
    }

    [Fact]
    public void TrainsFromImageFilesAndReportsSkippedSamples()
    {
        using var dir = new TempDir();
        var rng = new Random(3);
        var rows = new List<string> { "image,caption" };
        string[] colours = ["red", "green", "blue"];
        for (int i = 0; i < 22; i++)
        {
            int c = i % 3;
            var px = new byte[20 * 24 * 3];
            for (int p = 0; p < px.Length; p++) px[p] = (byte)(p % 3 == c ? 200 + rng.Next(50) : rng.Next(60));
            new SharpClip.Vision.RgbImage(24, 20, px).SavePng(dir.Combine($"img{i}.png"));
            rows.Add($"img{i}.png,a {colours[c]} picture number {i}");
        }
        dir.File("broken.png", [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        rows.Add("broken.png,a broken picture");
        rows.Add("missing.png,a picture that is not there");
        var csv = dir.File("pairs.csv", string.Join("\n", rows) + "\n");

        var warnings = new List<string>();
        var config = Small(Path.Combine(dir.Path, "run")) with
        {
            Data = csv, EvalData = csv, EvalSamples = 8, DataOptions = null, Epochs = 2, Steps = null, BatchSize = 8, VocabSamples = 100,
        };
        var result = Train(config, warnings: warnings);
        Assert.False(result.Interrupted);
        Assert.Equal(4, result.Position.Step);   // 22 usable pairs: 2 batches of 8 per epoch, 2 epochs
        Assert.Contains(warnings, w => w.Contains("broken image 2") && w.Contains("missing image 2"));
        Assert.Contains("retrieval/image_to_text_r1", result.LastEvaluation!.Keys);
        Assert.DoesNotContain(result.LastEvaluation!.Keys, k => k.StartsWith("zero_shot/"));
    }

    [Fact]
    public void AFreshRunRefusesAFolderThatHoldsOne()
    {
        using var dir = new TempDir();
        var config = Small(Path.Combine(dir.Path, "run")) with { Steps = 2, EvalData = null };
        Train(config);
        var e = Assert.Throws<IOException>(() => Train(config));
        Assert.Contains("resume", e.Message);
    }
}
