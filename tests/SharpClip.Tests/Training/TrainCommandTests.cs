using SharpClip.Checkpoints;
using SharpClip.Tests.Data;
using SharpClip.Training;

namespace SharpClip.Tests.Training;

[Collection(TrainerRunsCollection.Name)]
public class TrainCommandTests
{
    [Fact]
    public void TrainVerbReadsAConfigAppliesFlagsAndWritesAModelFolder()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var config = dir.File("train.json", """
            {
              "architecture": { "embed_dim": 16, "image_resolution": 16, "vision_layers": [1], "vision_width": 64, "vision_patch_size": 8,
                                "vision_head_width": 64, "vision_mlp_ratio": 4.0, "context_length": 16, "vocab_size": 1000,
                                "text_width": 64, "text_heads": 1, "text_layers": 1, "activation": "QuickGelu" },
              "data_options": { "synthetic": { "image_size": 16, "supersampling": 1, "train_count": 64, "validation_count": 16 } },
              "vocab_size": 560, "batch_size": 8, "steps": 50, "eval_samples": 16
            }
            """);
        int code = SharpClip.Cli.Program.Main(["train", "--config", config, "--steps", "2", "--output", run, "--workers", "1"]);
        Assert.Equal(0, code);
        Assert.True(ClipModelFolder.IsModelFolder(run));
        var saved = TrainingConfig.Load(Path.Combine(run, Trainer.ConfigFileName));
        Assert.Equal(2L, saved.Steps);                       // the flag overrode the file
        Assert.Equal(8, saved.BatchSize);                    // the file overrode the default
        Assert.Equal(2, MetricsLog.Read(Path.Combine(run, MetricsLog.FileName)).Count(r => r.ContainsKey("loss")));

        // --resume with no --config continues from the run's own training_config.json.
        Assert.Equal(0, SharpClip.Cli.Program.Main(["train", "--resume", "--output", run, "--steps", "3"]));
        Assert.Equal(3, MetricsLog.Read(Path.Combine(run, MetricsLog.FileName)).Count(r => r.ContainsKey("loss")));

        Assert.Equal(1, SharpClip.Cli.Program.Main(["train", "--config", config, "--loss", "triplet", "--output", Path.Combine(dir.Path, "x")]));
    }
}
