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
/// Everything before the first step, top to bottom: where to start (a checkpoint or step 0), text, the model, the
/// objective and optimizer, data and evaluation, the run folder. Returns a <see cref="TrainingSession"/> that owns
/// what was built; on failure, what was built so far is disposed.
/// </summary>
internal static class TrainingSetup
{
    public static TrainingSession Start(TrainingConfig config, IProgress<TrainingEvent>? progress, TrainingEvaluationFactory? evaluation,
        CancellationToken cancellationToken)
    {
        var run = new TrainingSession(config, progress);
        try
        {
            Build(run, config, evaluation, cancellationToken);
            return run;
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }

    static void Build(TrainingSession run, TrainingConfig config, TrainingEvaluationFactory? evaluation, CancellationToken cancellationToken)
    {
        ComputeTarget.ConfigureThreads(config.Threads);
        Directory.CreateDirectory(run.Output);

        // ---- where to start: the newest intact checkpoint, or step 0 -----------------------------------------
        if (!config.Resume && TrainingCheckpoint.List(run.CheckpointsDirectory).Count > 0)
            throw new IOException($"{run.Output} already holds a run ({run.CheckpointsDirectory}); resume it or choose another output folder");
        using var resumed = config.Resume ? TrainingCheckpoint.LoadLatest(run.CheckpointsDirectory, run.Warn) : null;
        if (config.Resume && resumed is null) run.Info($"no checkpoint in {run.CheckpointsDirectory}; starting from step 0");
        if (resumed is not null) WarnOnChangedConfig(resumed.Config, config, run.Warn);
        run.Position = resumed?.Position ?? TrainingPosition.Start;

        // ---- text: the given vocabulary, the checkpoint's, or one learned from the training captions ------------
        var trainSource = ImageTextSources.Open(config.Data, config.DataOptions);
        using var init = config.Init is { } initPath ? CheckpointLoader.Read(initPath, new CheckpointReadOptions { VocabPath = config.Vocab }, cancellationToken) : null;
        var (tokenizer, vocabPath, mergesPath) = Tokenizer(config, init, trainSource, run.Output, run.Info, cancellationToken);

        // ---- the model: fine-tune a checkpoint, or a preset from scratch ----------------------------------------
        var architecture = Architecture(config, init, tokenizer);
        torch.manual_seed(config.Seed);
        run.Model = init is not null ? ClipModel.FromStateDict(init.StateDict, init.SourcePath, architecture, requireFinite: false) : new ClipModel(architecture);
        run.Objective = ContrastiveObjective.Create(config.Objective);
        if (init is null) run.Objective.InitializeLogitScale(run.Model);
        if (resumed is not null) RestoreModel(run.Model, run.Objective, resumed);
        var processor = ImageProcessor(init, architecture);
        (run.Architecture, run.VocabPath, run.MergesPath, run.Preprocessing) = (architecture, vocabPath, mergesPath, processor.Preprocessing);

        // ---- how a batch becomes gradients, and the optimizer ------------------------------------------------
        run.Step = new ContrastiveStep(run.Model, run.Objective, new ContrastiveStepOptions
        {
            MicroBatchSize = config.MicroBatchSize,
            FreezeImageTower = config.FreezeImageTower,
            FreezeTextTower = config.FreezeTextTower,
            ComputeType = ComputeType(config.Precision, run.Warn),
            ActivationCheckpointing = config.ActivationCheckpointing,
        });
        var (decay, noDecay) = WeightDecayRule.Split(run.Step.TrainableParameters);
        run.Optimizer = new AdamWOptimizer(
            [new ParameterGroup("decay", decay, config.WeightDecay), new ParameterGroup("no_decay", noDecay, 0)],
            config.Beta1, config.Beta2, config.Epsilon);
        if (resumed is not null) run.Optimizer.LoadStateDict(resumed.Optimizer, Path.Combine(resumed.Directory, TrainingCheckpoint.OptimizerFile));
        run.LastCheckpoint = resumed?.Directory;
        if (resumed is not null) run.MarkSaved(resumed.Position.Step);
        resumed?.Dispose();   // everything is copied into the model and optimizer: free the checkpoint's tensors now
        init?.Dispose();

        // ---- data: augmented training batches, a fixed validation set ------------------------------------------
        int workers = config.Workers ?? Math.Max(1, Environment.ProcessorCount);
        int resolution = architecture.ImageResolution, context = architecture.ContextLength;
        run.Loader = new ClipDataLoader(trainSource,
            TrainingInputs.Augmented(processor, new RandomResizedCrop(resolution, config.MinCropScale, 1.0),
                config.GrayscaleProbability > 0 ? new RandomGrayscale(config.GrayscaleProbability) : null),
            TrainingInputs.Captions(tokenizer, context),
            new ClipLoaderOptions { BatchSize = config.BatchSize, ImageSize = resolution, Seed = config.Seed, Workers = workers });
        run.TotalSteps = config.Steps ?? config.Epochs * BatchesPerEpoch(run.Loader, run.Info, cancellationToken);
        if (config.EvalData is { } evalSpec)
            run.Evaluator = evaluation!(new TrainingEvaluationContext(ImageTextSources.Open(evalSpec, config.DataOptions), processor, tokenizer, context,
                config.EvalSamples, workers), cancellationToken);

        // ---- the run folder -----------------------------------------------------------------------------------
        File.WriteAllText(Path.Combine(run.Output, Trainer.ConfigFileName), config.ToJson() + "\n");
        bool resuming = resumed is not null;
        run.Metrics = MetricsLog.Open(run.Output, resuming ? run.Position.Step : null);
        run.Info($"{run.Model.Config}; {run.Model.ParameterCount:N0} parameters, {run.Step.TrainableParameters.Sum(p => p.Parameter.numel()):N0} trained");
        run.Info($"{trainSource.Name}: {run.TotalSteps} steps of {config.BatchSize} pairs" +
            (config.MicroBatchSize < config.BatchSize ? $" in micro-batches of {config.MicroBatchSize}" : "") +
            (resuming ? $", resuming at step {run.Position.Step}" : ""));
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
        var learned = Path.Combine(output, Trainer.LearnedVocabFileName);
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
            case Precision.Int8:
                throw new ArgumentException("precision int8 is for inference on the ONNX engine (int8 linear layers computed from float32 weights); training runs in fp32 or bf16");
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

    // Settings that change what a resumed run computes; a difference is allowed (e.g. more steps) but reported.
    static void WarnOnChangedConfig(JsonNode? saved, TrainingConfig current, Action<string> warn)
    {
        if (saved is not JsonObject old) return;
        var now = current.ToJsonNode().AsObject();
        foreach (var (key, value) in now)
        {
            if (ExistingRun.OutcomeNeutralFields.Contains(key)) continue;
            var before = old[key];
            if (!JsonNode.DeepEquals(before, value))
                warn($"resuming with {key} = {value?.ToJsonString() ?? "null"} (the checkpoint's run had {before?.ToJsonString() ?? "null"}); results will differ from an uninterrupted run");
        }
    }
}
