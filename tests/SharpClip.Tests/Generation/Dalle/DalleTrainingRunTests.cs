using SharpClip.Generation.Dalle;
using SharpClip.Generation.Dalle.Sampling;
using SharpClip.Generation.Dalle.Training;
using SharpClip.Tests.Training;
using SharpClip.Training;
using TorchSharp;
using SharpClip.Generation.Training;

namespace SharpClip.Tests.Generation.Dalle;

/// <summary>The train-dvae and train-dalle verbs for a few steps on tiny synthetic data, resumed; the DALL-E trainer's resume is identical; the result samples.</summary>
[Collection(TrainerRunsCollection.Name)]
public class DalleTrainingRunTests
{
    static string DalleConfig(TempDir dir, string name, string dvae, int steps) => dir.File(name + ".json", $$"""
        {
          "dvae": "{{dvae}}", "image_size": 16, "text_length": 12, "width": 32, "layers": 2, "heads": 2, "vocab_size": 600,
          "data": "synthetic:shapes:train",
          "data_options": { "synthetic": { "image_size": 16, "supersampling": 1, "train_count": 48, "validation_count": 8 } },
          "batch_size": 8, "micro_batch_size": 3, "ema_decay": 0.9, "steps": {{steps}}, "warmup_steps": 2, "workers": 1, "save_every": 2,
          "output": "{{Path.Combine(dir.Path, name)}}"
        }
        """);

    [Fact]
    public void VerbsTrainResumeAndTheModelSamples()
    {
        using var dir = new TempDir();
        var dvaeRun = Path.Combine(dir.Path, "dvae");
        var dvaeConfig = DvaeTrainerTests.Config(dir, "dvae-config", 20);
        Assert.Equal(0, SharpClip.Cli.Program.Main(["train-dvae", "--config", dvaeConfig, "--steps", "3", "--output", dvaeRun]));
        Assert.Equal(0, SharpClip.Cli.Program.Main(["train-dvae", "--resume", "--output", dvaeRun, "--steps", "4"]));
        var dvaeLog = MetricsLog.Read(Path.Combine(dvaeRun, MetricsLog.FileName));
        Assert.Equal([1L, 2, 3, 4], dvaeLog.Select(r => (long)r["step"]!));
        Assert.All(dvaeLog, r => Assert.True(r.ContainsKey("perplexity") && r.ContainsKey("dead_codes")));

        var dalleRun = Path.Combine(dir.Path, "dalle");
        var config = DalleConfig(dir, "dalle-config", dvaeRun, 20);
        Assert.Equal(0, SharpClip.Cli.Program.Main(["train-dalle", "--config", config, "--steps", "2", "-o", dalleRun]));
        Assert.Equal(0, SharpClip.Cli.Program.Main(["train-dalle", "--resume", "-o", dalleRun, "--steps", "3"]));
        var log = MetricsLog.Read(Path.Combine(dalleRun, MetricsLog.FileName));
        Assert.Equal([1L, 2, 3], log.Select(r => (long)r["step"]!));
        Assert.All(log, r => Assert.True((double)r["image_loss"]! > 0 && (double)r["text_loss"]! > 0));

        using var dalle = DalleModel.Load(dalleRun);
        Assert.NotNull(dalle.Dvae);
        using var tokens = dalle.Sample(["a red circle", "two blue squares"], 2, new SamplingOptions { TopK = 8, BatchSize = 3 }, new torch.Generator(5));
        Assert.Equal([4L, 4, 4], tokens.shape);                                      // 16 px / 4 (3 groups)
        using var images = dalle.Dvae!.Decode(tokens);
        Assert.Equal([4L, 3, 16, 16], images.Image.shape);
        using var again = dalle.Sample(["a red circle", "two blue squares"], 2, new SamplingOptions { TopK = 8, BatchSize = 3 }, new torch.Generator(5));
        Assert.Equal(tokens.data<long>().ToArray(), again.data<long>().ToArray());   // the seed reproduces the candidates

        Assert.Equal(1, SharpClip.Cli.Program.Main(["train-dalle", "--config", config, "-o", dalleRun]));   // a run is there: resume or choose another
        Assert.Equal(1, SharpClip.Cli.Program.Main(["train-dalle", "--config", config, "--dvae", dir.File("nothing"), "-o", dir.File("x")]));
    }

    [Fact]
    public void DalleTrainerResumesIdenticallyWithAccumulationAndEma()
    {
        using var dir = new TempDir();
        var dvaeRun = DvaeTrainer.Run(DvaeTrainingConfig.Load(DvaeTrainerTests.Config(dir, "dvae", 2))).OutputDirectory;
        var full = DalleTrainer.Run(DalleTrainingConfig.Load(DalleConfig(dir, "full", dvaeRun, 4)));
        using var cts = new CancellationTokenSource();
        var stopped = DalleTrainer.Run(DalleTrainingConfig.Load(DalleConfig(dir, "split", dvaeRun, 4)),
            new SyncProgress(e => { if (e is GenerativeStepFinished { Metrics.Step: 3 }) cts.Cancel(); }), cts.Token);
        Assert.True(stopped.Interrupted);
        var resumed = DalleTrainer.Run(DalleTrainingConfig.Load(DalleConfig(dir, "split", dvaeRun, 4)) with { Resume = true });
        Assert.Equal(full.Losses.Skip(3), resumed.Losses);
        var a = Checkpoints.CheckpointTestData.Header(Path.Combine(full.OutputDirectory, DalleModel.WeightsFile));
        Assert.True(a.ContainsKey("transformer.resblocks.0.attn.in_proj_weight"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(full.OutputDirectory, DalleModel.WeightsFile)), File.ReadAllBytes(Path.Combine(resumed.OutputDirectory, DalleModel.WeightsFile)));
    }
}
