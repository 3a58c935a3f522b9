using SharpClip.Modeling;
using SharpClip.Generation.Diffusion.Autoencoder;
using SharpClip.Generation.Training;
using SharpClip.Runtime;
using SharpClip.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Training;

/// <summary>
/// Stage 1 of latent diffusion: trains the KL autoencoder from scratch in nanoGPT's shape — set up, then the loop:
/// batch → [−1, 1] pixels → posterior → a sample z → decoder → reconstruction + kl_weight · KL → AdamW → log,
/// checkpoint. The run folder ends up holding <c>autoencoder.safetensors</c> (the reference's key names, as under
/// <c>first_stage_model.</c>), which stage 2 (<see cref="UNetTrainer"/>) reads frozen.
/// </summary>
public static class AutoencoderTrainer
{
    public static GenerativeTrainingResult Run(DiffusionTrainingConfig config, IProgress<TrainingEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        config = config.Validate();
        if (config.Stage != DiffusionStage.Autoencoder) throw new ArgumentException("diffusion training config field 'stage': the autoencoder trainer runs stage 'autoencoder'");
        ComputeTarget.ConfigureThreads(config.Threads);
        using var run = new GenerativeRun(config.Output, config.Resume, config.ToJsonNode(), progress);

        // ---- the model and the optimizer ---------------------------------------------------------------------------
        torch.manual_seed(config.Seed);
        using var model = new AutoencoderKL(config.AutoencoderShape, scaleFactor: 1.0);   // the diffusion scale is stage 2's
        foreach (var p in model.parameters()) p.requires_grad_(true);
        using var optimizer = config.Optimizer(model.named_parameters().Select(p => (p.name, p.parameter)));
        if (run.Resumed is { } resumed)
        {
            CheckpointWeights.Restore(model, resumed);
            optimizer.LoadStateDict(resumed.Optimizer, Path.Combine(resumed.Directory, TrainingCheckpoint.OptimizerFile));
            run.ReleaseResumed();
        }

        // ---- data and the run folder -------------------------------------------------------------------------------
        run.OpenData(config.Data, config.DataOptions, config.ImageSize, config.BatchSize, config.Seed, config.Workers,
            captions => [.. captions.Select(_ => new long[1])]);   // the autoencoder reads no text
        run.TotalSteps = config.Steps;
        run.Begin(DiffusionTrainer.ConfigFileName);
        int latentSide = config.ImageSize / config.AutoencoderShape.DownsampleFactor;
        run.Info($"autoencoder: {config.ImageSize}px → {config.LatentChannels}×{latentSide}×{latentSide} latents; {config.AutoencoderShape}; " +
                 $"{model.parameters().Sum(p => p.numel()):N0} parameters; {run.Loader.Source.Name}: {run.TotalSteps} steps of {config.BatchSize}" +
                 (run.Position.Step > 0 ? $", resuming at step {run.Position.Step}" : ""));

        model.train();
        using Scalar two = 2.0, one = 1.0, klWeight = config.KlWeight;
        return run.Train(batch =>
        {
            long step = run.Position.Step;
            double lr = config.LearningRateAt(step, run.TotalSteps);
            using var scope = torch.NewDisposeScope();
            var image = torch.tensor(batch.Pixels, [batch.Count, 3, config.ImageSize, config.ImageSize]).mul(two).sub(one);   // [batch, 3, s, s] in [−1, 1]
            using var noise = new Generator(GenerativeRun.StepSeed(config.Seed, step));   // the posterior sample, the same on resume
            using var posterior = model.Encode(image);
            var z = posterior.Sample(noise);                                                 // [batch, c, s/f, s/f]
            var reconstruction = model.DecodeUnscaled(z);                                    // [batch, 3, s, s]
            var rec = AutoencoderObjective.Reconstruction(reconstruction, image, config.Reconstruction);
            var kl = AutoencoderObjective.Kl(posterior);
            var total = rec.Plus(kl.mul(klWeight));
            optimizer.ZeroGrad();
            total.backward();
            if (config.MaxGradNorm is { } maxNorm) torch.nn.utils.clip_grad_norm_(optimizer.Parameters, maxNorm);
            optimizer.Step(lr);
            float recon = rec.item<float>();
            return new GenerativeRun.StepReport(total.item<float>(), lr,
                [("recon", recon), ("recon_per_pixel", recon / (3 * config.ImageSize * config.ImageSize)), ("kl", kl.item<float>()), ("latent_std", z.detach().std().item<float>())]);
        }, () => Save(run, model, optimizer, config), config.SaveEvery, cancellationToken);
    }

    static void Save(GenerativeRun run, AutoencoderKL model, AdamWOptimizer optimizer, DiffusionTrainingConfig config)
    {
        using var scope = torch.NewDisposeScope();
        var weights = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach());
        var state = optimizer.StateDict();
        run.SaveCheckpoint(weights, state, config.KeepCheckpoints);
        Files.SafeTensorsWriter.Write(Path.Combine(run.Output, LatentDiffusionFolder.AutoencoderFile), weights);
        foreach (var t in state.Values) t.Dispose();
    }
}
