using SharpClip.Modeling;
using SharpClip.Files;
using SharpClip.Generation.Dalle.Dvae;
using SharpClip.Runtime;
using SharpClip.Training;
using TorchSharp;
using static TorchSharp.torch;
using SharpClip.Generation.Training;

namespace SharpClip.Generation.Dalle.Training;

/// <summary>
/// Trains DALL-E's discrete VAE from scratch as the paper does, in nanoGPT's shape: set up, then the loop — batch →
/// encoder logits → gumbel-softmax codes at the annealed temperature → decoder → reconstruction + β·KL → AdamW →
/// codebook usage → log, checkpoint. The run folder ends up holding <c>encoder.safetensors</c> and
/// <c>decoder.safetensors</c>, which <see cref="DiscreteVae.Load(string)"/> reads like the released weights.
/// </summary>
public static class DvaeTrainer
{
    public const string ConfigFileName = "dvae_training_config.json";
    const string UsageKey = "codebook.last_used";

    /// <summary>
    /// Runs to the configured step or until <paramref name="cancellationToken"/> fires; then the last finished step is
    /// saved and the result says <see cref="GenerativeTrainingResult.Interrupted"/>.
    /// </summary>
    public static GenerativeTrainingResult Run(DvaeTrainingConfig config, IProgress<TrainingEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        config = config.Validate();
        ComputeTarget.ConfigureThreads(config.Threads);
        using var run = new GenerativeRun(config.Output, config.Resume, config.ToJsonNode(), progress);

        // ---- the model, the optimizer, codebook bookkeeping -------------------------------------------------------
        torch.manual_seed(config.Seed);
        using var model = new TrainableDvae(
            new DvaeEncoderConfig(config.GroupCount, config.HiddenWidth, config.BlocksPerGroup, 3, config.VocabSize),
            new DvaeDecoderConfig(config.GroupCount, config.InitialWidth, config.HiddenWidth, config.BlocksPerGroup, 3, config.VocabSize));
        using var optimizer = config.Optimizer(model.named_parameters().Select(p => (p.name, p.parameter)));
        var usage = new CodebookUsage(config.VocabSize, config.DeadCodeWindow);
        if (run.Resumed is { } resumed)
        {
            CheckpointWeights.Restore(model, resumed);
            optimizer.LoadStateDict(resumed.Optimizer, Path.Combine(resumed.Directory, TrainingCheckpoint.OptimizerFile));
            usage.Restore(GenerativeRun.Require(resumed.Optimizer, UsageKey, resumed), resumed.Directory);
            run.ReleaseResumed();
        }

        // ---- data and the run folder ------------------------------------------------------------------------------
        run.OpenData(config.Data, config.DataOptions, config.ImageSize, config.BatchSize, config.Seed, config.Workers,
            captions => [.. captions.Select(_ => new long[1])]);   // the dVAE reads no text
        run.TotalSteps = config.Steps;
        run.Begin(ConfigFileName);
        run.Info($"dVAE: {config.ImageSize}px → {config.ImageSize >> (config.GroupCount - 1)}² tokens from {config.VocabSize} codes; " +
                 $"{model.parameters().Sum(p => p.numel()):N0} parameters; {run.Loader.Source.Name}: {run.TotalSteps} steps of {config.BatchSize}" +
                 (run.Position.Step > 0 ? $", resuming at step {run.Position.Step}" : ""));

        model.train();
        return run.Train(batch =>
        {
            long step = run.Position.Step;   // 0-based: the schedules' argument
            double lr = config.LearningRateAt(step, run.TotalSteps);
            double temperature = DvaeSchedules.Temperature(step, config.TemperatureAnnealSteps, config.TemperatureStart, config.TemperatureEnd, config.TemperatureShape);
            double beta = DvaeSchedules.KlWeight(step, config.KlRampSteps, config.KlWeight);
            using var scope = torch.NewDisposeScope();
            var pixels = torch.tensor(batch.Pixels, [batch.Count, 3, config.ImageSize, config.ImageSize]);   // [batch, 3, s, s] in [0, 1]
            using var noise = new Generator(GenerativeRun.StepSeed(config.Seed, step));   // the gumbel noise, the same on resume
            var forward = model.Forward(pixels, temperature, noise, config.Hard);
            var reconLoss = DvaeObjective.Reconstruction(forward.Output, pixels, config.Reconstruction);
            var klLoss = DvaeObjective.KlToUniform(forward.Logits, pixels.numel());
            using Scalar betaScalar = beta;
            var total = reconLoss.Plus(klLoss.mul(betaScalar));
            optimizer.ZeroGrad();
            total.backward();
            if (config.MaxGradNorm is { } maxNorm) torch.nn.utils.clip_grad_norm_(optimizer.Parameters, maxNorm);
            optimizer.Step(lr);
            double perplexity = usage.Observe(forward.Logits.argmax(1), step + 1);
            return new GenerativeRun.StepReport(total.item<float>(), lr,
                [("recon", reconLoss.item<float>()), ("kl", klLoss.item<float>()), ("kl_weight", beta), ("temperature", temperature),
                 ("perplexity", perplexity), ("dead_codes", usage.DeadCodes(step + 1))]);
        }, () => Save(run, model, optimizer, usage, config), config.SaveEvery, cancellationToken);
    }

    static void Save(GenerativeRun run, TrainableDvae model, AdamWOptimizer optimizer, CodebookUsage usage, DvaeTrainingConfig config)
    {
        using var scope = torch.NewDisposeScope();
        var weights = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach());
        var state = optimizer.StateDict();
        state[UsageKey] = usage.State();
        run.SaveCheckpoint(weights, state, config.KeepCheckpoints);
        var (encoder, decoder) = model.HalfStateDicts();
        SafeTensorsWriter.Write(Path.Combine(run.Output, "encoder.safetensors"), encoder);
        SafeTensorsWriter.Write(Path.Combine(run.Output, "decoder.safetensors"), decoder);
        foreach (var t in state.Values) t.Dispose();
    }
}
