using System.Diagnostics;
using SharpClip.Data;
using SharpClip.Demos.Synthetic;
using SharpClip.Evaluation;
using SharpClip.Tests.Data;
using SharpClip.Training;
using Xunit.Abstractions;

namespace SharpClip.Tests.Training;

/// <summary>
/// "It learns": the tiny preset trained briefly on the synthetic shapes must classify colour×shape combinations it
/// never saw in training (the held-out split) well above chance. Seeded; about 15-25 s on 2 idle cores (the bench's
/// "curve" suite runs the longer version).
/// </summary>
[Collection(TrainerRunsCollection.Name)]
public class LearningTests(ITestOutputHelper output)
{
    [Fact]
    public void TinyClipTransfersToHeldOutCombinationsWellAboveChance()
    {
        using var dir = new TempDir();
        var config = new TrainingConfig
        {
            Output = Path.Combine(dir.Path, "tiny"),
            Model = "tiny", ContextLength = 24,
            DataOptions = SyntheticShapesSpec.Options(new SyntheticShapesOptions { ImageSize = 32, Supersampling = 2 }),
            VocabSamples = 5000,
            BatchSize = 64, Steps = 120, WarmupSteps = 20, LearningRate = 1e-3,
            EvalData = "synthetic:shapes:validation", EvalSamples = 400, EvalEvery = 0, SaveEvery = 0, Seed = 1,
        };
        var clock = Stopwatch.StartNew();
        var result = Trainer.Run(config, evaluation: TrainingEvaluator.Create);
        output.WriteLine($"{result.Position.Step} steps in {clock.Elapsed.TotalSeconds:F1} s; loss {result.Losses[0].Loss:F3} -> {result.Losses[^1].Loss:F3}");
        foreach (var (k, v) in result.LastEvaluation!) output.WriteLine($"{k} = {v:F3}");

        var dataset = new SyntheticShapes(SyntheticShapesSpec.SettingsIn(config.DataOptions));
        double chance = dataset.HeldOutColourShapeTask.Chance;
        double heldOut = result.LastEvaluation!["zero_shot/held_out_colour_shape"];
        Assert.True(heldOut >= 3 * chance, $"held-out colour×shape accuracy {heldOut:F3} is under 3× chance ({3 * chance:F3})");
        Assert.True(result.Losses[^1].Loss < result.Losses[0].Loss - 1, "the loss should fall by more than 1 nat");
    }
}
