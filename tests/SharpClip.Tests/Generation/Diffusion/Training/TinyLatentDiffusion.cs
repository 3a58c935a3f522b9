using SharpClip.Checkpoints;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using SharpClip.Vision;

namespace SharpClip.Tests.Generation.Diffusion.Training;

/// <summary>
/// Tiny latent diffusion runs on synthetic shapes (16 px → 4×8×8 latents), the configs the tests share, and a CLIP
/// model folder made from the fixture set's smallest model (text width 64, OpenAI's vocabulary) for <c>--clip</c>.
/// </summary>
public sealed class TinyLatentDiffusion : IDisposable
{
    public const int ImageSide = 16;

    readonly TempDir _dir = new();
    readonly Lazy<string> _clip;
    readonly Lazy<string> _autoencoder;
    readonly Lazy<string> _model;

    public TinyLatentDiffusion()
    {
        _clip = new(() =>
        {
            using var reference = new ReferenceModel("rn_tiny_1111");
            using var source = CheckpointLoader.Read(reference.WeightsPath);
            var folder = Path.Combine(_dir.Path, "clip");
            ClipModelFolder.Write(folder, source.ResolvedConfig, source.StateDict, Fixtures.VocabPath, PreprocessingInfo.ForResolution(source.ResolvedConfig.ImageResolution));
            return folder;
        });
        _autoencoder = new(() => SharpClip.Generation.Diffusion.Training.DiffusionTrainer.Run(
            SharpClip.Generation.Diffusion.Training.DiffusionTrainingConfig.Load(AutoencoderConfig(_dir, "fixture-ae", 2))).OutputDirectory);
        _model = new(() => SharpClip.Generation.Diffusion.Training.DiffusionTrainer.Run(
            SharpClip.Generation.Diffusion.Training.DiffusionTrainingConfig.Load(UNetConfig(_dir, "fixture-unet", 2, Autoencoder, Clip))).OutputDirectory);
    }

    /// <summary>A SharpClip CLIP model folder (vocabulary inside).</summary>
    public string Clip => _clip.Value;

    /// <summary>A stage-1 run folder (2 steps).</summary>
    public string Autoencoder => _autoencoder.Value;

    /// <summary>A stage-2 run folder: a latent diffusion model folder (2 steps).</summary>
    public string Model => _model.Value;

    static string Data => """
        "data": "synthetic:shapes:train",
        "data_options": { "synthetic": { "image_size": 16, "supersampling": 1, "train_count": 48, "validation_count": 8 } },
        "workers": 1, "image_size": 16, "batch_size": 6, "warmup_steps": 2, "save_every": 3
        """;

    public static string AutoencoderConfig(TempDir dir, string name, int steps, string extra = "") => dir.File(name + ".json", $$"""
        {
          "stage": "autoencoder", {{Data}},
          "autoencoder_channels": 32, "autoencoder_channel_mult": [1, 2], "autoencoder_res_blocks": 1, "latent_channels": 4,
          "learning_rate": 1e-3, "steps": {{steps}}, "output": "{{Path.Combine(dir.Path, name)}}" {{extra}}
        }
        """);

    public static string UNetConfig(TempDir dir, string name, int steps, string autoencoder, string clip, string extra = "") => dir.File(name + ".json", $$"""
        {
          "stage": "unet", {{Data}}, "autoencoder": "{{autoencoder}}", "clip": "{{clip}}",
          "unet_channels": 32, "unet_channel_mult": [1, 2], "unet_res_blocks": 1, "unet_attention_resolutions": [2], "unet_heads": 2,
          "caption_dropout": 0.3, "ema_decay": 0.9, "learning_rate": 1e-3, "steps": {{steps}}, "output": "{{Path.Combine(dir.Path, name)}}" {{extra}}
        }
        """);

    public void Dispose() => _dir.Dispose();
}
