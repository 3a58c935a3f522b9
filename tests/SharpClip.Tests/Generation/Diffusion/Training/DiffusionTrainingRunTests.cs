using System.Text.Json;
using SharpClip.Generation.Description;
using SharpClip.Generation.Diffusion;
using SharpClip.Generation.Diffusion.Training;
using SharpClip.Generation.TextToImage;
using SharpClip.Generation.Training;
using SharpClip.Tests.Search;
using SharpClip.Tests.Training;
using SharpClip.Training;
using SharpClip.Vision;

namespace SharpClip.Tests.Generation.Diffusion.Training;

/// <summary>
/// Both stages of <c>train-diffusion</c> on tiny synthetic runs: resuming after a stop gives the bytes of an
/// uninterrupted run, the autoencoder's loss falls, bad configs name their field, and the model folder generates
/// through <c>generate</c> and is described by <c>info</c>.
/// </summary>
[Collection(TrainerRunsCollection.Name)]
public class DiffusionTrainingRunTests(TinyLatentDiffusion tiny) : IClassFixture<TinyLatentDiffusion>
{
    static GenerativeTrainingResult StopAt(string config, int step)
    {
        using var cts = new CancellationTokenSource();
        var stopped = DiffusionTrainer.Run(DiffusionTrainingConfig.Load(config),
            new SyncProgress(e => { if (e is GenerativeStepFinished s && s.Metrics.Step == step) cts.Cancel(); }), cts.Token);
        Assert.True(stopped.Interrupted);
        Assert.Equal(step, stopped.Step);
        return stopped;
    }

    [Fact]
    public void AutoencoderResumesIdentically()
    {
        using var dir = new TempDir();
        var full = DiffusionTrainer.Run(DiffusionTrainingConfig.Load(TinyLatentDiffusion.AutoencoderConfig(dir, "full", 5)));
        StopAt(TinyLatentDiffusion.AutoencoderConfig(dir, "split", 5), 4);   // a checkpoint at 3 and one at the stop
        var resumed = DiffusionTrainer.Run(DiffusionTrainingConfig.Load(TinyLatentDiffusion.AutoencoderConfig(dir, "split", 5)) with { Resume = true });
        Assert.Equal(full.Losses.Skip(4), resumed.Losses);
        Assert.Equal(File.ReadAllBytes(Path.Combine(full.OutputDirectory, LatentDiffusionFolder.AutoencoderFile)),
            File.ReadAllBytes(Path.Combine(resumed.OutputDirectory, LatentDiffusionFolder.AutoencoderFile)));
        var log = MetricsLog.Read(Path.Combine(resumed.OutputDirectory, MetricsLog.FileName));
        Assert.Equal([1L, 2, 3, 4, 5], log.Select(r => (long)r["step"]!));
        Assert.All(log, r => Assert.True((double)r["kl"]! >= 0 && (double)r["recon"]! > 0));
    }

    [Fact]
    public void UNetResumesIdenticallyWithDropoutEmaAndTheScaleFactor()
    {
        using var dir = new TempDir();
        var full = DiffusionTrainer.Run(DiffusionTrainingConfig.Load(TinyLatentDiffusion.UNetConfig(dir, "full", 5, tiny.Autoencoder, tiny.Clip)));
        StopAt(TinyLatentDiffusion.UNetConfig(dir, "split", 5, tiny.Autoencoder, tiny.Clip), 4);
        var resumed = DiffusionTrainer.Run(DiffusionTrainingConfig.Load(TinyLatentDiffusion.UNetConfig(dir, "split", 5, tiny.Autoencoder, tiny.Clip)) with { Resume = true });
        Assert.Equal(full.Losses.Skip(4), resumed.Losses);
        foreach (var file in new[] { LatentDiffusionFolder.UNetFile, LatentDiffusionFolder.ConfigFile })
            Assert.Equal(File.ReadAllBytes(Path.Combine(full.OutputDirectory, file)), File.ReadAllBytes(Path.Combine(resumed.OutputDirectory, file)));
        var a = LatentDiffusionFolder.ReadConfig(full.OutputDirectory);
        var b = LatentDiffusionFolder.ReadConfig(resumed.OutputDirectory);
        Assert.Equal(a.Architecture.ScaleFactor, b.Architecture.ScaleFactor);
        Assert.InRange(a.Architecture.ScaleFactor, 0.01, 100);
        var log = MetricsLog.Read(Path.Combine(resumed.OutputDirectory, MetricsLog.FileName));
        Assert.Equal([1L, 2, 3, 4, 5], log.Select(r => (long)r["step"]!));
        Assert.All(log, r => Assert.Equal(a.Architecture.ScaleFactor, (double)r["scale_factor"]!, 6));
    }

    [Fact]
    public void AutoencoderLossFallsOnATinyRun()
    {
        using var dir = new TempDir();
        var run = DiffusionTrainer.Run(DiffusionTrainingConfig.Load(TinyLatentDiffusion.AutoencoderConfig(dir, "learn", 30, ", \"save_every\": 0, \"batch_size\": 8")));
        double first = run.Losses.Take(5).Average(l => l.Loss), last = run.Losses.TakeLast(5).Average(l => l.Loss);
        Assert.True(last < 0.85 * first, $"loss {first:F1} → {last:F1}");
    }

    [Theory]
    [InlineData("\"unet_channels\": 48", "unet_channels")]
    [InlineData("\"caption_dropout\": 1.0", "caption_dropout")]
    [InlineData("\"unet_heads\": 3", "unet_heads")]
    [InlineData("\"clip\": \"\"", "clip")]
    [InlineData("\"linear_end\": 0.0001", "linear_end")]
    public void BadUNetConfigsNameTheirField(string field, string name)
    {
        using var dir = new TempDir();
        var path = TinyLatentDiffusion.UNetConfig(dir, "bad", 2, "ae", "clip");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"steps\"", field + ", \"steps\"").Replace("\"clip\": \"clip\", ", name == "clip" ? "" : "\"clip\": \"clip\", "));
        var e = Assert.Throws<ArgumentException>(() => DiffusionTrainingConfig.Load(path).Validate());
        Assert.Contains($"'{name}'", e.Message);
    }

    [Fact]
    public void BadAutoencoderConfigsAndUnknownFieldsNameTheirField()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ArgumentException>(() => DiffusionTrainingConfig.Load(TinyLatentDiffusion.AutoencoderConfig(dir, "a", 2, ", \"autoencoder_channels\": 24")).Validate());
        Assert.Contains("'autoencoder_channels'", e.Message);
        e = Assert.Throws<ArgumentException>(() => DiffusionTrainingConfig.Load(TinyLatentDiffusion.AutoencoderConfig(dir, "b", 2, ", \"image_size\": 15")).Validate());
        Assert.Contains("'image_size'", e.Message);
        var unknown = Assert.Throws<InvalidDataException>(() => DiffusionTrainingConfig.Load(TinyLatentDiffusion.AutoencoderConfig(dir, "c", 2, ", \"lpips_weight\": 1")));
        Assert.Contains("unknown field 'lpips_weight'", unknown.Message);
        var missing = Assert.Throws<FileNotFoundException>(() => DiffusionTrainer.Run(DiffusionTrainingConfig.Load(
            TinyLatentDiffusion.UNetConfig(dir, "d", 2, dir.File("no-such-run"), tiny.Clip))));
        Assert.Contains("'autoencoder'", missing.Message);
    }

    [Fact]
    public void TheModelFolderOpensAsATextToImageModelAndIsDescribed()
    {
        using var generator = TextToImageGenerators.Open(tiny.Model);
        Assert.Equal("latent-diffusion", generator.Kind);
        Assert.Equal((TinyLatentDiffusion.ImageSide, TinyLatentDiffusion.ImageSide), generator.DefaultSize);
        var request = new TextToImageRequest { Prompt = "a red circle", Count = 2, Seed = 4, Steps = 4, GuidanceScale = 3 };
        Assert.Equal(LatentDiffusionFolder.ReadConfig(tiny.Model).Architecture.ScaleFactor, (double)generator.Resolve(request)["scale_factor"]!);
        var images = generator.Generate(request);
        Assert.Equal(2, images.Count);
        Assert.All(images, i => Assert.Equal((16, 16), (i.Image.Width, i.Image.Height)));
        var again = generator.Generate(request with { Count = 1, Seed = 5 });
        Assert.Equal(images[1].Image.Pixels, again[0].Image.Pixels);          // image i is seed + i alone

        var d = GenerativeModelDescription.Describe(tiny.Model)!;
        Assert.Equal("latent-diffusion", d.Kind);
        Assert.Equal(["unet", "vae", "text"], d.Parts.Select(p => p.Name));
        Assert.Equal(32, d.Parts[0].Config["model_channels"]);
        Assert.Equal(64, d.Parts[0].Config["context_dim"]);                  // the CLIP's text width
        Assert.Equal(64, d.Parts[2].Config["hidden_size"]);
        Assert.Equal(4, d.Parts[1].Config["embed_dim"]);
        Assert.Equal("16x16", d.Settings["default_size"]);
    }

    [Fact]
    public void TheVerbTrainsBothStagesResumesAndTheFolderGeneratesThroughTheCli()
    {
        using var dir = new TempDir();
        var ae = Path.Combine(dir.Path, "ae");
        Assert.Equal(0, SharpClip.Cli.Program.Main(["train-diffusion", "--config", TinyLatentDiffusion.AutoencoderConfig(dir, "ae-config", 20), "--steps", "2", "-o", ae]));
        Assert.Equal(0, SharpClip.Cli.Program.Main(["train-diffusion", "--resume", "-o", ae, "--steps", "3"]));
        Assert.Equal([1L, 2, 3], MetricsLog.Read(Path.Combine(ae, MetricsLog.FileName)).Select(r => (long)r["step"]!));

        var model = Path.Combine(dir.Path, "ldm");
        var unetConfig = TinyLatentDiffusion.UNetConfig(dir, "unet-config", 20, "ignored", "ignored");
        Assert.Equal(0, SharpClip.Cli.Program.Main(["train-diffusion", "--config", unetConfig, "--stage", "unet", "--clip", tiny.Clip, "--autoencoder", ae, "--steps", "2", "-o", model]));
        Assert.Equal(1, SharpClip.Cli.Program.Main(["train-diffusion", "--config", unetConfig, "--clip", tiny.Clip, "--autoencoder", ae, "-o", model]));   // a run is there

        var output = Path.Combine(dir.Path, "out");
        var (exit, _, err) = CliProcess.Run(["generate", "-m", model, "a red circle", "--steps", "4", "-n", "2", "--seed", "9", "-o", output]);
        Assert.True(exit == 0, err);
        var pngs = Directory.GetFiles(output, "image-*.png");
        Assert.Equal(2, pngs.Length);
        Assert.All(pngs, p => Assert.Equal(16, ImageDecoder.ReadHeader(p).Width));
        using var record = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "generation.json")));
        Assert.Equal("latent-diffusion", record.RootElement.GetProperty("model").GetProperty("kind").GetString());

        var info = CliProcess.Run(["info", model]);
        Assert.True(info.Exit == 0, info.Err);
        Assert.Contains("latent-diffusion", info.Out);
        Assert.Contains("scale_factor", info.Out);
    }
}
