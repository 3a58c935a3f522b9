using SharpClip.Generation.Diffusion.Autoencoder;
using SharpClip.Generation.Diffusion.Conditioning;
using SharpClip.Generation.Diffusion.Sampling;
using SharpClip.Generation.Diffusion.UNet;
using SharpClip.Generation.Training;
using SharpClip.Runtime;
using SharpClip.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Training;

/// <summary>
/// Stage 2 of latent diffusion: trains the U-Net on a frozen autoencoder's latents, conditioned on a frozen CLIP text
/// tower, in nanoGPT's shape — set up (the two frozen parts, the U-Net, AdamW, the EMA, data), then the loop: batch →
/// latents = a posterior sample × the scale factor (LDM's rule on the first batch: 1 / their std) → t, ε → x_t →
/// captions with dropout → text states → ε̂ = U-Net(x_t, t, states) → MSE(ε̂, ε) → AdamW → EMA → log, checkpoint.
/// The run folder becomes a <see cref="LatentDiffusionFolder"/>, carrying the EMA weights, that <c>generate</c> opens.
/// </summary>
public static class UNetTrainer
{
    const string EmaPrefix = "ema.";
    const string ScaleFactorKey = "latent.scale_factor";

    public static GenerativeTrainingResult Run(DiffusionTrainingConfig config, IProgress<TrainingEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        config = config.Validate();
        if (config.Stage != DiffusionStage.Unet) throw new ArgumentException("diffusion training config field 'stage': the U-Net trainer runs stage 'unet'");
        ComputeTarget.ConfigureThreads(config.Threads);

        // ---- the frozen parts: the autoencoder of stage 1 and the CLIP's text tower ------------------------------
        var autoencoderFile = Path.Combine(config.Autoencoder!, LatentDiffusionFolder.AutoencoderFile);
        if (!File.Exists(autoencoderFile))
            throw new FileNotFoundException($"diffusion training config field 'autoencoder': {config.Autoencoder} holds no {LatentDiffusionFolder.AutoencoderFile} (train stage 1 first: --stage autoencoder)", autoencoderFile);
        using var autoencoder = AutoencoderKL.Load(autoencoderFile, scaleFactor: 1.0, keyPrefix: "");
        foreach (var p in autoencoder.parameters()) p.requires_grad_(false);
        int factor = autoencoder.Config.DownsampleFactor, latentSide = config.ImageSize / factor;
        if (config.ImageSize % factor != 0)
            throw new ArgumentException($"diffusion training config field 'image_size': {config.ImageSize} is not a multiple of the autoencoder's factor {factor}");
        if (latentSide % (1 << (config.UnetChannelMult.Length - 1)) != 0)
            throw new ArgumentException($"diffusion training config field 'unet_channel_mult': {config.UnetChannelMult.Length} levels halve the {latentSide}×{latentSide} latent {config.UnetChannelMult.Length - 1} times; it must divide evenly");
        var (text, tokenizer) = ClipTextConditioning.Load(config.ClipModel!, config.ClipVocab);
        using var textEncoder = text;
        int context = text.Config.ContextLength;

        using var run = new GenerativeRun(config.Output, config.Resume, config.ToJsonNode(), progress);

        // ---- the U-Net, the optimizer, the average ----------------------------------------------------------------
        var shape = config.UNetShape(autoencoder.Config.EmbedDim, text.Config.Width);   // context_dim = the CLIP's text width
        var schedule = NoiseSchedule.Linear(config.LinearStart, config.LinearEnd, config.Timesteps);
        var objective = new DiffusionObjective(schedule);
        torch.manual_seed(config.Seed);
        using var unet = new UNetModel(shape);
        UNetInitialisation.ZeroResidualOutputs(unet);
        foreach (var p in unet.parameters()) p.requires_grad_(true);
        var named = unet.named_parameters().Select(p => (p.name, p.parameter)).ToList();
        using var optimizer = config.Optimizer(named);
        using var ema = config.EmaDecay is { } d ? new ExponentialMovingAverage(named, d) : null;
        float? scale = config.ScaleFactor is { } given ? (float)given : null;
        if (run.Resumed is { } resumed)
        {
            CheckpointWeights.Restore(unet, resumed);
            optimizer.LoadStateDict(resumed.Optimizer, Path.Combine(resumed.Directory, TrainingCheckpoint.OptimizerFile));
            ema?.Restore(resumed.Optimizer, EmaPrefix, resumed.Directory);
            if (resumed.Optimizer.TryGetValue(ScaleFactorKey, out var saved)) scale = saved.item<float>();   // the run's own, not recomputed
            run.ReleaseResumed();
        }

        // ---- data and the run folder ------------------------------------------------------------------------------
        run.OpenData(config.Data, config.DataOptions, config.ImageSize, config.BatchSize, config.Seed, config.Workers,
            captions => PromptTokens.Arrays(tokenizer, captions, context));
        run.TotalSteps = config.Steps;
        run.Begin(DiffusionTrainer.ConfigFileName);
        LatentDiffusionFolder.WriteFrozenParts(run.Output, autoencoder, text, tokenizer.Vocabulary);
        var trainedWith = new Dictionary<string, string> { ["clip"] = Path.GetFullPath(config.ClipModel!), ["autoencoder"] = Path.GetFullPath(config.Autoencoder!) };
        run.Info($"U-Net: {autoencoder.Config.EmbedDim}×{latentSide}×{latentSide} latents, {shape}; {unet.ParameterCount:N0} parameters; " +
                 $"text: {config.ClipModel} ({text.Config.Layers} layers, width {text.Config.Width}, {context} tokens), frozen; " +
                 $"{run.Loader.Source.Name}: {run.TotalSteps} steps of {config.BatchSize}" + (run.Position.Step > 0 ? $", resuming at step {run.Position.Step}" : ""));

        using var emptyIds = PromptTokens.Tensor(tokenizer, [""], context);   // [1, context]: guidance's unconditional prompt
        unet.train();
        using Scalar two = 2.0, one = 1.0;
        return run.Train(batch =>
        {
            long step = run.Position.Step;
            double lr = config.LearningRateAt(step, run.TotalSteps);
            using var scope = torch.NewDisposeScope();
            using var random = new Generator(GenerativeRun.StepSeed(config.Seed, step));   // every draw of the step, the same on resume
            var image = torch.tensor(batch.Pixels, [batch.Count, 3, config.ImageSize, config.ImageSize]).mul(two).sub(one);   // [batch, 3, s, s] in [−1, 1]
            Tensor latents, states, dropped;
            using (torch.no_grad())
            {
                using var posterior = autoencoder.Encode(image);
                var z = posterior.Sample(random);                                              // [batch, c, s/f, s/f]
                if (scale is null)
                {
                    scale = 1f / z.std().item<float>();                                        // LDM: 1 / std of the first batch's latents
                    run.Info($"scale factor {scale.Value:G6} (1 / std of the first batch's latents)");
                }
                using Scalar s = scale.Value;
                latents = z.mul(s);
                var ids = torch.tensor(batch.TokenIds, [batch.Count, context]);                 // [batch, context]
                dropped = CaptionDropout.Draw(batch.Count, config.CaptionDropout, random);     // [batch]
                states = text.Encode(CaptionDropout.Apply(ids, emptyIds, dropped));            // [batch, context, width]
            }
            var t = objective.SampleTimesteps(batch.Count, random);                            // [batch]
            var noise = torch.randn(latents.shape, generator: random);                         // [batch, c, h, w]
            var noisy = objective.Noise(latents, t, noise);
            var loss = DiffusionObjective.Loss(unet.forward(noisy, t, states), noise);
            optimizer.ZeroGrad();
            loss.backward();
            if (config.MaxGradNorm is { } maxNorm) torch.nn.utils.clip_grad_norm_(optimizer.Parameters, maxNorm);
            optimizer.Step(lr);
            ema?.Update(run.Position.Step + 1);
            return new GenerativeRun.StepReport(loss.item<float>(), lr,
                [("captions_dropped", dropped.sum().item<long>() / (double)batch.Count), ("scale_factor", scale.Value)]);
        }, () => Save(run, unet, optimizer, ema, shape, text.Config, schedule, scale, trainedWith, config), config.SaveEvery, cancellationToken);
    }

    static void Save(GenerativeRun run, UNetModel unet, AdamWOptimizer optimizer, ExponentialMovingAverage? ema, UNetConfig shape, TextEncoderConfig text,
        NoiseSchedule schedule, float? scale, IReadOnlyDictionary<string, string> trainedWith, DiffusionTrainingConfig config)
    {
        using var scope = torch.NewDisposeScope();
        var weights = unet.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach());
        var state = optimizer.StateDict();
        if (ema is not null)
            foreach (var (name, average) in ema.Averages) state[EmaPrefix + name] = average.detach();
        if (scale is { } s) state[ScaleFactorKey] = torch.tensor(s);
        run.SaveCheckpoint(weights, state, config.KeepCheckpoints);
        // The model folder carries the averaged weights when there is an average (what sampling should use); a run
        // stopped before its first step has no scale factor yet and no model to publish.
        if (scale is { } published)
        {
            var unetWeights = ema is null ? weights : weights.ToDictionary(kv => kv.Key, kv => state.TryGetValue(EmaPrefix + kv.Key, out var a) ? a : kv.Value);
            LatentDiffusionFolder.WriteUNet(run.Output, unetWeights, shape, text, schedule, (config.LinearStart, config.LinearEnd), published, config.ImageSize, trainedWith);
        }
        foreach (var (key, t) in state) if (!key.StartsWith(EmaPrefix, StringComparison.Ordinal)) t.Dispose();
    }
}
