using System.Diagnostics;
using System.Text.Json.Nodes;
using SharpClip.Checkpoints;
using SharpClip.Data;
using SharpClip.Data.Loading;
using SharpClip.Modeling;
using SharpClip.Runtime;
using SharpClip.Text;
using SharpClip.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Training;

/// <summary>
/// Trains or fine-tunes CLIP as a <see cref="TrainingConfig"/> says. <see cref="Run"/> reads top to bottom: text,
/// model, objective and optimizer, data, then the loop — batch → exact forward/backward → clip → AdamW → clamp the
/// temperature → log, evaluate, checkpoint. The run folder ends up a SharpClip model folder every verb can load.
/// </summary>
public static class Trainer
{
    /// <summary>Trained vocabulary file name inside the run folder (when no vocabulary was given).</summary>
    public const string LearnedVocabFileName = "bpe_vocab.txt.gz";

    /// <summary>The resolved config of a run, written at its start.</summary>
    public const string ConfigFileName = "training_config.json";

    /// <summary>
    /// Runs training to the configured number of steps, or until <paramref name="cancellationToken"/> fires: then the
    /// state after the last finished step is saved and the result says <see cref="TrainingResult.Interrupted"/>
    /// (cancellation during setup, before the first step, throws <see cref="OperationCanceledException"/>).
    /// </summary>
    /// <param name="config">What to train; validated first.</param>
    /// <param name="progress">Receives reports synchronously on the training thread (see <see cref="TrainingProgress"/>).</param>
    /// <param name="cancellationToken">Stops the run after the current step (Ctrl-C in the CLI).</param>
    public static TrainingResult Run(TrainingConfig config, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        config = config.Validate();
        void Report(TrainingProgressKind kind, string message) => progress?.Report(new TrainingProgress { Kind = kind, Message = message });
        ComputeTarget.ConfigureThreads(config.Threads);
        string output = Path.GetFullPath(config.Output), checkpoints = Path.Combine(output, "checkpoints");
        Directory.CreateDirectory(output);

        // ---- where to start: the newest intact checkpoint, or step 0 -----------------------------------------
        if (!config.Resume && TrainingCheckpoint.List(checkpoints).Count > 0)
            throw new IOException($"{output} already holds a run ({checkpoints}); resume it or choose another output folder");
        using var resumed = config.Resume ? TrainingCheckpoint.LoadLatest(checkpoints, w => Report(TrainingProgressKind.Warning, w)) : null;
        if (config.Resume && resumed is null) Report(TrainingProgressKind.Info, $"no checkpoint in {checkpoints}; starting from step 0");
        if (resumed is not null) WarnOnChangedConfig(resumed.Config, config, m => Report(TrainingProgressKind.Warning, m));
        var position = resumed?.Position ?? TrainingPosition.Start;

        // ---- text: the given vocabulary, the checkpoint's, or one learned from the training captions ------------
        var trainSource = ImageTextSources.Open(config.Data, config.DataOptions);
        using var init = config.Init is { } initPath ? CheckpointLoader.Read(initPath, new CheckpointReadOptions { VocabPath = config.Vocab }, cancellationToken) : null;
        var (tokenizer, vocabPath, mergesPath) = Tokenizer(config, init, trainSource, output, m => Report(TrainingProgressKind.Info, m), cancellationToken);

        // ---- the model: fine-tune a checkpoint, or a preset from scratch ----------------------------------------
        var architecture = Architecture(config, init, tokenizer);
        torch.manual_seed(config.Seed);
        using var model = init is not null ? ClipModel.FromStateDict(init.StateDict, init.SourcePath, architecture, requireFinite: false) : new ClipModel(architecture);
        using var objective = ContrastiveObjective.Create(config.Objective);
        if (init is null) objective.InitializeLogitScale(model);
        if (resumed is not null) RestoreModel(model, objective, resumed);
        var processor = ImageProcessor(init, architecture);
        var preprocessing = processor.Preprocessing;
        int resolution = architecture.ImageResolution, context = architecture.ContextLength;

        // ---- how a batch becomes gradients, and the optimizer ------------------------------------------------
        using var step = new ContrastiveStep(model, objective, new ContrastiveStepOptions
        {
            MicroBatchSize = config.MicroBatchSize,
            FreezeImageTower = config.FreezeImageTower,
            FreezeTextTower = config.FreezeTextTower,
            ComputeType = ComputeType(config.Precision, m => Report(TrainingProgressKind.Warning, m)),
            ActivationCheckpointing = config.ActivationCheckpointing,
        });
        var (decay, noDecay) = WeightDecayRule.Split(step.TrainableParameters);
        using var optimizer = new AdamWOptimizer(
            [new ParameterGroup("decay", decay, config.WeightDecay), new ParameterGroup("no_decay", noDecay, 0)],
            config.Beta1, config.Beta2, config.Epsilon);
        if (resumed is not null) optimizer.LoadStateDict(resumed.Optimizer, Path.Combine(resumed.Directory, TrainingCheckpoint.OptimizerFile));
        string? lastCheckpoint = resumed?.Directory;
        resumed?.Dispose();   // everything is copied into the model and optimizer: free the checkpoint's tensors now
        init?.Dispose();

        // ---- data: augmented training batches, a fixed validation set ------------------------------------------
        int workers = config.Workers ?? Math.Max(1, Environment.ProcessorCount);
        var loader = new ClipDataLoader(trainSource,
            TrainingInputs.Augmented(processor, new RandomResizedCrop(resolution, config.MinCropScale, 1.0),
                config.GrayscaleProbability > 0 ? new RandomGrayscale(config.GrayscaleProbability) : null),
            TrainingInputs.Captions(tokenizer, context),
            new ClipLoaderOptions { BatchSize = config.BatchSize, ImageSize = resolution, Seed = config.Seed, Workers = workers });
        long totalSteps = config.Steps ?? config.Epochs * BatchesPerEpoch(loader, m => Report(TrainingProgressKind.Info, m), cancellationToken);
        using var evaluator = config.EvalData is { } evalSpec
            ? TrainingEvaluator.Create(ImageTextSources.Open(evalSpec, config.DataOptions), processor, tokenizer, context, config.EvalSamples, workers, cancellationToken)
            : null;

        // ---- the run folder -----------------------------------------------------------------------------------
        File.WriteAllText(Path.Combine(output, ConfigFileName), config.ToJson() + "\n");
        using var metrics = MetricsLog.Open(output, resumed is null ? null : position.Step);
        Report(TrainingProgressKind.Info, $"{model.Config}; {model.ParameterCount:N0} parameters, {step.TrainableParameters.Sum(p => p.Parameter.numel()):N0} trained");
        Report(TrainingProgressKind.Info, $"{trainSource.Name}: {totalSteps} steps of {config.BatchSize} pairs" +
            (config.MicroBatchSize < config.BatchSize ? $" in micro-batches of {config.MicroBatchSize}" : "") +
            (resumed is not null ? $", resuming at step {position.Step}" : ""));

        long savedStep = resumed is null ? -1 : position.Step;
        void Save()
        {
            lastCheckpoint = SaveCheckpoint(output, checkpoints, config, position, model, objective, optimizer, architecture, vocabPath, mergesPath, preprocessing);
            savedStep = position.Step;
            progress?.Report(new TrainingProgress { Kind = TrainingProgressKind.Checkpoint, Step = position.Step, TotalSteps = totalSteps, Message = lastCheckpoint });
        }
        IReadOnlyDictionary<string, double>? lastEvaluation = null;
        void Evaluate()
        {
            if (evaluator is null) return;
            var results = evaluator.Evaluate(model, cancellationToken);
            lastEvaluation = results;
            var record = new JsonObject { ["step"] = position.Step, ["epoch"] = position.Epoch };
            var values = new JsonObject();
            foreach (var (k, v) in results) values[k] = v;
            record["eval"] = values;
            metrics.Append(record);
            progress?.Report(new TrainingProgress { Kind = TrainingProgressKind.Evaluation, Step = position.Step, TotalSteps = totalSteps, Epoch = position.Epoch, Metrics = results });
        }

        // ---- the loop -----------------------------------------------------------------------------------------
        var losses = new List<(long, float)>();
        var clock = Stopwatch.StartNew();
        double trainingSeconds = 0, samplesPerSecond = 0;
        long stepsThisCall = 0;
        bool interrupted = false;
        try
        {
            while (position.Step < totalSteps)
            {
                long batchesBefore = position.BatchInEpoch;
                long started = Stopwatch.GetTimestamp();   // a step's time includes waiting for its batch
                foreach (var batch in loader.ReadEpoch(position.Epoch, position.BatchInEpoch, cancellationToken))
                {
                    double lr = LearningRateSchedule.WarmupCosine(position.Step, totalSteps, config.WarmupSteps, config.LearningRate, config.MinLearningRate);
                    float loss;
                    double? gradNorm = null;
                    using (var scope = torch.NewDisposeScope())
                    {
                        var pixels = torch.tensor(batch.Pixels, [batch.Count, 3, resolution, resolution]);
                        var ids = torch.tensor(batch.TokenIds, [batch.Count, batch.ContextLength]);
                        optimizer.ZeroGrad();
                        loss = step.Run(pixels, ids, cancellationToken);   // forward + backward, exact over the whole batch
                        if (config.MaxGradNorm is { } maxNorm) gradNorm = torch.nn.utils.clip_grad_norm_(optimizer.Parameters, maxNorm);
                        optimizer.Step(lr);
                        ContrastiveObjective.ClampLogitScale(model.LogitScale);
                    }
                    position = position with
                    {
                        Step = position.Step + 1, BatchInEpoch = position.BatchInEpoch + 1, SamplesSeen = position.SamplesSeen + batch.Count,
                    };
                    losses.Add((position.Step, loss));

                    double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                    trainingSeconds += seconds;
                    stepsThisCall++;
                    double rate = batch.Count / Math.Max(seconds, 1e-9);
                    samplesPerSecond = stepsThisCall == 1 ? rate : 0.9 * samplesPerSecond + 0.1 * rate;
                    double logitScale = Math.Exp(model.LogitScale.item<float>());
                    metrics.Append(new JsonObject
                    {
                        ["step"] = position.Step, ["epoch"] = position.Epoch, ["loss"] = loss, ["lr"] = lr, ["logit_scale"] = logitScale,
                        ["grad_norm"] = gradNorm, ["samples_per_s"] = Math.Round(samplesPerSecond, 2), ["elapsed_s"] = Math.Round(clock.Elapsed.TotalSeconds, 3),
                    });
                    progress?.Report(new TrainingProgress
                    {
                        Kind = TrainingProgressKind.Step, Step = position.Step, TotalSteps = totalSteps, Epoch = position.Epoch,
                        Loss = loss, LearningRate = lr, LogitScale = logitScale, GradNorm = gradNorm, SamplesPerSecond = samplesPerSecond,
                        Elapsed = clock.Elapsed, Remaining = TimeSpan.FromSeconds(trainingSeconds / stepsThisCall * (totalSteps - position.Step)),
                    });

                    if (config.SaveEvery > 0 && position.Step % config.SaveEvery == 0 && position.Step < totalSteps) Save();
                    if (config.EvalEvery > 0 && position.Step % config.EvalEvery == 0 && position.Step < totalSteps) Evaluate();
                    if (position.Step >= totalSteps) break;
                    started = Stopwatch.GetTimestamp();
                }
                if (position.Step >= totalSteps) break;
                if (position.BatchInEpoch == 0 && batchesBefore == 0)
                    throw new InvalidDataException($"{trainSource.Name}: epoch {position.Epoch} gave no batch of {config.BatchSize} usable pairs ({loader.Stats})");
                position = position with { Epoch = position.Epoch + 1, BatchInEpoch = 0 };
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            interrupted = true;
            Report(TrainingProgressKind.Info, $"interrupted after step {position.Step}; saving");
        }

        // ---- the end: the final state, and the model folder --------------------------------------------------
        if (savedStep != position.Step) Save();
        if (!interrupted) Evaluate();
        var stats = loader.Stats;
        if (stats.TotalSkipped > 0)
            Report(TrainingProgressKind.Warning, $"data: {stats}; e.g. {string.Join("; ", stats.Examples.Take(3))}");
        else
            Report(TrainingProgressKind.Info, $"data: {stats}");
        return new TrainingResult(output, position, totalSteps, interrupted, losses, lastEvaluation, lastCheckpoint);
    }

    // The tokenizer and the vocabulary file(s) the model folder will carry.
    static (ClipTokenizer Tokenizer, string VocabPath, string? MergesPath) Tokenizer(TrainingConfig config, LoadedCheckpoint? init,
        IImageTextSource source, string output, Action<string> info, CancellationToken cancellationToken)
    {
        if (init is not null)
        {
            var files = init.TokenizerSource.Resolve();   // a given vocabulary was passed to the checkpoint's reader
            return (files.Load(), files.VocabPath!, files.MergesPath);
        }
        if (config.Vocab is { } given) return (ClipTokenizer.Load(given), given, null);
        var learned = Path.Combine(output, LearnedVocabFileName);
        if (config.Resume && File.Exists(learned)) return (ClipTokenizer.Load(learned), learned, null);
        var sw = Stopwatch.StartNew();
        var (bpe, samplesRead) = TrainingInputs.LearnVocabulary(source, config.VocabSamples, config.VocabSize, cancellationToken);
        bpe.SaveOpenAi(learned);
        info($"learned a {bpe.Count}-token vocabulary from the captions of {samplesRead} samples in {sw.Elapsed.TotalSeconds:F1} s: {learned}");
        return (new ClipTokenizer(bpe), learned, null);
    }

    // The run's image preprocessing (augmentation's normalisation, the validation images' resize and centre crop):
    // fine-tuning prepares images exactly as inference does with the same checkpoint; from scratch, CLIP's transform.
    internal static ClipImageProcessor ImageProcessor(LoadedCheckpoint? init, ClipConfig architecture) =>
        init?.CreateImageProcessor() ?? new ClipImageProcessor(PreprocessingInfo.ForResolution(architecture.ImageResolution));

    // Fine-tuning keeps the checkpoint's shape; from scratch, the preset takes the tokenizer's size and the context.
    static ClipConfig Architecture(TrainingConfig config, LoadedCheckpoint? init, ClipTokenizer tokenizer)
    {
        if (init is not null)
        {
            var shape = init.ResolvedConfig;
            if (shape.VocabSize != tokenizer.VocabSize)
                throw new ArgumentException($"{init.SourcePath} has a vocabulary of {shape.VocabSize} tokens; the tokenizer has {tokenizer.VocabSize}");
            return shape;
        }
        var preset = config.Architecture ?? TrainingPresets.Get(config.Model);
        return (preset with { VocabSize = tokenizer.VocabSize, ContextLength = config.ContextLength ?? preset.ContextLength }).Validate();
    }

    static ScalarType? ComputeType(Precision precision, Action<string> warn)
    {
        var cpu = CpuFeatures.Current;
        switch (precision)
        {
            case Precision.Float32: return null;
            case Precision.Auto: return cpu.HasFastBf16 ? ScalarType.BFloat16 : null;
            case Precision.BFloat16:
                if (!cpu.HasFastBf16) warn($"{cpu.ModelName} has no avx512_bf16/amx_bf16: bf16 is emulated and much slower than float32");
                return ScalarType.BFloat16;
            default: throw new ArgumentException($"precision {precision}: CPU float16 matrix products are unusably slow; use BFloat16 or Float32");
        }
    }

    static long BatchesPerEpoch(ClipDataLoader loader, Action<string> info, CancellationToken cancellationToken)
    {
        if (loader.BatchesPerEpochHint is { } known) return Math.Max(1, known);
        info($"{loader.Source.Name}: counting samples to plan the epochs (set steps to skip this)");
        long n = loader.Source.ReadAll(cancellationToken: cancellationToken).LongCount();
        return Math.Max(1, loader.Options.DropLast ? n / loader.Options.BatchSize : (n + loader.Options.BatchSize - 1) / loader.Options.BatchSize);
    }

    static void RestoreModel(ClipModel model, ContrastiveObjective objective, TrainingCheckpoint checkpoint)
    {
        var source = Path.Combine(checkpoint.Directory, TrainingCheckpoint.ModelFile);
        var entries = checkpoint.Model.ToDictionary(kv => kv.Key, kv => new StateDictLoader.Entry(kv.Value.shape, kv.Value.dtype));
        StateDictLoader.Load(model, entries, key => checkpoint.Model[key].alias(), source);
        using var _ = torch.no_grad();
        foreach (var (name, p) in objective.Parameters)
        {
            if (!checkpoint.Optimizer.TryGetValue("objective." + name, out var value))
                throw new InvalidDataException($"{checkpoint.Directory}: no 'objective.{name}' (was the run trained with another objective?)");
            p.copy_(value);
        }
    }

    static string SaveCheckpoint(string output, string checkpoints, TrainingConfig config, TrainingPosition position, ClipModel model,
        ContrastiveObjective objective, AdamWOptimizer optimizer, ClipConfig architecture, string vocabPath, string? mergesPath,
        PreprocessingInfo preprocessing)
    {
        using var scope = torch.NewDisposeScope();
        var weights = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach());
        var state = optimizer.StateDict();
        foreach (var (name, p) in objective.Parameters) state["objective." + name] = p.detach().clone();
        var dir = TrainingCheckpoint.Save(checkpoints, position, weights, state, config.ToJsonNode(), config.KeepCheckpoints);
        ClipModelFolder.Write(output, architecture, weights, vocabPath, preprocessing, mergesPath, overwrite: true);
        foreach (var t in state.Values) t.Dispose();
        return dir;
    }

    // Settings that change what a resumed run computes; a difference is allowed (e.g. more steps) but reported.
    static void WarnOnChangedConfig(JsonNode? saved, TrainingConfig current, Action<string> warn)
    {
        if (saved is not JsonObject old) return;
        var now = current.ToJsonNode().AsObject();
        string[] harmless = ["output", "resume", "save_every", "eval_every", "eval_samples", "eval_data", "keep_checkpoints", "threads", "workers"];
        foreach (var (key, value) in now)
        {
            if (harmless.Contains(key)) continue;
            var before = old[key];
            if (!JsonNode.DeepEquals(before, value))
                warn($"resuming with {key} = {value?.ToJsonString() ?? "null"} (the checkpoint's run had {before?.ToJsonString() ?? "null"}); results will differ from an uninterrupted run");
        }
    }
}
