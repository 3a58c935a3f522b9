using SharpClip.Data;
using SharpClip.Generation.Dalle.Transformer;
using SharpClip.Runtime;
using SharpClip.Text;
using SharpClip.Training;
using TorchSharp;
using static TorchSharp.torch;
using SharpClip.Generation.Training;

namespace SharpClip.Generation.Dalle.Training;

/// <summary>
/// Trains the DALL-E transformer on image–caption pairs, in nanoGPT's shape: set up (a trained dVAE, the caption
/// tokenizer, the model, AdamW, optional EMA, the frozen dVAE's codes of every training image (<see cref="DvaeCodeCache"/>,
/// encoded once), data), then the loop — batch → its cached codes → forward/backward per micro-batch (gradient
/// accumulation) → clip → AdamW → EMA → log, checkpoint. The run folder ends up a <see cref="DalleModel"/> folder (with
/// the dVAE copied into <c>dvae/</c>).
/// </summary>
public static class DalleTrainer
{
    public const string ConfigFileName = "dalle_training_config.json";
    const string EmaPrefix = "ema.";

    public static GenerativeTrainingResult Run(DalleTrainingConfig config, IProgress<TrainingEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        config = config.Validate();
        ComputeTarget.ConfigureThreads(config.Threads);
        using var run = new GenerativeRun(config.Output, config.Resume, config.ToJsonNode(), progress);

        // ---- the dVAE and the caption tokenizer -------------------------------------------------------------------
        using var dvae = DiscreteVae.Load(config.Dvae);
        if (config.ImageSize % dvae.Downsampling != 0)
            throw new ArgumentException($"DALL-E training config field 'image_size': {config.ImageSize} is not a multiple of the dVAE's {dvae.Downsampling}");
        int grid = config.ImageSize / dvae.Downsampling;
        var vocabulary = Vocabulary(config, run, cancellationToken);
        var tokenizer = new ClipTokenizer(vocabulary);
        var shape = new DalleConfig
        {
            TextVocabSize = tokenizer.VocabSize, TextLength = config.TextLength, ImageVocabSize = dvae.VocabSize,
            ImageRows = grid, ImageColumns = grid, Width = config.Width, Layers = config.Layers, Heads = config.Heads,
        }.Validate();

        // ---- the model, the optimizer, the average ----------------------------------------------------------------
        torch.manual_seed(config.Seed);
        using var model = new DalleTransformer(shape);
        var named = model.named_parameters().Select(p => (p.name, p.parameter)).ToList();
        using var optimizer = config.Optimizer(named);
        using var ema = config.EmaDecay is { } d ? new ExponentialMovingAverage(named, d) : null;
        if (run.Resumed is { } resumed)
        {
            CheckpointWeights.Restore(model, resumed);
            optimizer.LoadStateDict(resumed.Optimizer, Path.Combine(resumed.Directory, TrainingCheckpoint.OptimizerFile));
            ema?.Restore(resumed.Optimizer, EmaPrefix, resumed.Directory);
            run.ReleaseResumed();
        }

        // ---- the dVAE's codes of every training image, then data and the run folder ---------------------------------
        var codes = DvaeCodeCache.Open(run.Output, dvae, config.Data, config.DataOptions, config.ImageSize, config.BatchSize, config.Workers,
            run.Info, cancellationToken);
        // The loader still orders, captions and skips the samples exactly as with pixels; it no longer decodes them: its
        // image slot carries a one-pixel placeholder, and a sample whose image the cache could not read is skipped as an
        // unreadable image is.
        run.OpenData(config.Data, config.DataOptions, 1, (sample, _) => codes.Contains(sample.Key) ? new float[3] : null,
            config.BatchSize, config.Seed, config.Workers, captions => DalleText.Tokenize(tokenizer, captions, config.TextLength));
        run.TotalSteps = config.Steps;
        run.Begin(ConfigFileName);
        CopyDvae(config.Dvae, Path.Combine(run.Output, DalleModel.DvaeFolder));
        run.Info($"DALL-E: {shape.TextLength} text + {grid}×{grid} image tokens, width {shape.Width}, {shape.Layers} layers; " +
                 $"{model.parameters().Sum(p => p.numel()):N0} parameters; {run.Loader.Source.Name}: {run.TotalSteps} steps of {config.BatchSize}" +
                 (run.Position.Step > 0 ? $", resuming at step {run.Position.Step}" : ""));

        int micro = Math.Min(config.MicroBatchSize ?? config.BatchSize, config.BatchSize);
        model.train();
        return run.Train(batch =>
        {
            double lr = config.LearningRateAt(run.Position.Step, run.TotalSteps);
            double loss = 0, textLoss = 0, imageLoss = 0;
            using var scope = torch.NewDisposeScope();
            var image = codes.Lookup(batch.Keys);                                                             // [batch, grid²] int64
            var text = torch.tensor(batch.TokenIds, [batch.Count, shape.TextLength]);                        // [batch, text]
            optimizer.ZeroGrad();
            for (int start = 0; start < batch.Count; start += micro)
            {
                using var step = torch.NewDisposeScope();
                int n = Math.Min(micro, batch.Count - start);
                var t = text.narrow(0, start, n);
                var im = image.narrow(0, start, n);
                var logits = model.Forward(t, im.narrow(1, 0, shape.ImageTokens - 1));
                using var parts = DalleLoss.Compute(logits, t, im, shape, config.TextLossWeight, config.ImageLossWeight);
                using Scalar share = (double)n / batch.Count;   // the mean over the batch, accumulated exactly
                parts.Total.mul(share).backward();
                double w = (double)n / batch.Count;
                loss += parts.Total.item<float>() * w;
                textLoss += parts.Text.item<float>() * w;
                imageLoss += parts.Image.item<float>() * w;
            }
            if (config.MaxGradNorm is { } maxNorm) torch.nn.utils.clip_grad_norm_(optimizer.Parameters, maxNorm);
            optimizer.Step(lr);
            ema?.Update(run.Position.Step + 1);
            return new GenerativeRun.StepReport(loss, lr, [("text_loss", textLoss), ("image_loss", imageLoss)]);
        }, () => Save(run, model, optimizer, ema, shape, vocabulary, config), config.SaveEvery, cancellationToken);
    }

    // The given vocabulary; on resume the run's own learned one; else one learned from the training captions.
    static BpeVocabulary Vocabulary(DalleTrainingConfig config, GenerativeRun run, CancellationToken cancellationToken)
    {
        if (config.Vocab is { } given) return BpeVocabulary.Load(given);
        var learned = Path.Combine(run.Output, DalleModel.VocabFile);
        if (config.Resume && File.Exists(learned)) return BpeVocabulary.Load(learned);
        var (bpe, read) = TrainingInputs.LearnVocabulary(ImageTextSources.Open(config.Data, config.DataOptions), config.VocabSamples, config.VocabSize, cancellationToken);
        bpe.SaveOpenAi(learned);
        run.Info($"learned a {bpe.Count}-token vocabulary from the captions of {read} samples: {learned}");
        return bpe;
    }

    static void CopyDvae(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var part in new[] { "encoder", "decoder" })
        {
            var source = new[] { ".safetensors", ".pkl" }.Select(ext => Path.Combine(from, part + ext)).First(File.Exists);   // Load found one
            File.Copy(source, Path.Combine(to, Path.GetFileName(source)), overwrite: true);
        }
    }

    static void Save(GenerativeRun run, DalleTransformer model, AdamWOptimizer optimizer, ExponentialMovingAverage? ema, DalleConfig shape,
        BpeVocabulary vocabulary, DalleTrainingConfig config)
    {
        using var scope = torch.NewDisposeScope();
        var weights = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach());
        var state = optimizer.StateDict();
        if (ema is not null)
            foreach (var (name, average) in ema.Averages) state[EmaPrefix + name] = average.detach();
        run.SaveCheckpoint(weights, state, config.KeepCheckpoints);
        // The model folder carries the averaged weights when there is an average (what sampling should use).
        var published = ema is null ? weights : weights.ToDictionary(kv => kv.Key, kv => state.TryGetValue(EmaPrefix + kv.Key, out var a) ? a : kv.Value);
        DalleModel.WriteFolder(run.Output, shape, published, vocabulary);
        foreach (var (key, t) in state) if (!key.StartsWith(EmaPrefix, StringComparison.Ordinal)) t.Dispose();
    }
}
