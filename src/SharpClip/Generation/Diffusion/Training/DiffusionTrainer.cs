using SharpClip.Generation.Training;
using SharpClip.Training;

namespace SharpClip.Generation.Diffusion.Training;

/// <summary>The one entry point of <c>train-diffusion</c>: runs the configured stage (<see cref="AutoencoderTrainer"/> or <see cref="UNetTrainer"/>).</summary>
public static class DiffusionTrainer
{
    /// <summary>The resolved config a run folder keeps (what <c>--resume</c> reads back).</summary>
    public const string ConfigFileName = "diffusion_training_config.json";

    public static GenerativeTrainingResult Run(DiffusionTrainingConfig config, IProgress<TrainingEvent>? progress = null, CancellationToken cancellationToken = default) =>
        config.Stage switch
        {
            DiffusionStage.Autoencoder => AutoencoderTrainer.Run(config, progress, cancellationToken),
            DiffusionStage.Unet => UNetTrainer.Run(config, progress, cancellationToken),
            _ => throw new ArgumentException($"diffusion training config field 'stage': '{config.Stage}' is not autoencoder or unet"),
        };
}
