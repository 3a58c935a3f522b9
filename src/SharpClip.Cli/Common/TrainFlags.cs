using System.CommandLine;
using System.Globalization;
using SharpClip.Runtime;
using SharpClip.Training;

namespace SharpClip.Cli;

/// <summary>
/// The flags of <c>sharpclip train</c> and how they map onto <see cref="TrainingConfig"/>: a flag overrides the config
/// file's field; with <c>--resume</c> and no config file, the run folder's own training_config.json is the base.
/// </summary>
public sealed class TrainFlags
{
    /// <summary>What a field is when neither a flag, the config file nor a resumed run sets it: shown in <c>train --help</c>.</summary>
    static readonly TrainingConfig Defaults = new();

    readonly Option<string?> _config = new("--config") { Description = "A JSON training config (snake_case fields of TrainingConfig); flags override it." };
    readonly Option<bool> _resume = new("--resume") { Description = "Continue the run in --output from its newest intact checkpoint." };
    readonly Option<string?> _model = new("--model", "-m") { Description = "Architecture to train from scratch: tiny, or a preset (ViT-B/32, RN50, ...)." + Default(Defaults.Model) };
    readonly Option<string?> _init = new("--init") { Description = "Checkpoint to fine-tune (SharpClip/Hugging Face/open_clip folder, .safetensors, .pt)." };
    readonly Option<string?> _data = new("--data") { Description = "Training pairs: synthetic:shapes:train, a .csv/.tsv, .jsonl, a folder, or .tar shards." + Default(Defaults.Data) };
    readonly Option<string?> _evalData = new("--eval-data") { Description = "Validation pairs for retrieval (and zero-shot on synthetic:shapes:validation); 'none' to skip." + Default(Defaults.EvalData) };
    readonly Option<int?> _evalSamples = new("--eval-samples") { Description = "Validation pairs per evaluation." + Default(Defaults.EvalSamples) };
    readonly Option<string?> _vocab = new("--vocab") { Description = "Vocabulary file (default: the checkpoint's, or one learned from the training captions)." };
    readonly Option<int?> _vocabSize = new("--vocab-size") { Description = "Size of a learned vocabulary." + Default(Defaults.VocabSize) };
    readonly Option<int?> _contextLength = new("--context-length") { Description = "Text context length when training from scratch. [default: the preset's, 77 for tiny]" };
    readonly Option<string?> _loss = new("--loss") { Description = "clip (symmetric cross-entropy) or siglip (pairwise sigmoid)." + Default(Defaults.Objective) };
    readonly Option<int?> _batchSize = new("--batch-size", "-b") { Description = "Pairs per optimizer step (the contrastive batch)." + Default(Defaults.BatchSize) };
    readonly Option<int?> _microBatch = new("--micro-batch-size") { Description = "Pairs per forward/backward pass: exact gradient-cache accumulation for batches bigger than memory. [default: the batch size]" };
    readonly Option<int?> _epochs = new("--epochs") { Description = "Passes over the data (ignored with --steps)." + Default(Defaults.Epochs) };
    readonly Option<long?> _steps = new("--steps") { Description = "Optimizer steps. [default: --epochs passes over the data]" };
    readonly Option<double?> _lr = new("--lr") { Description = "Peak learning rate." + Default(Defaults.LearningRate) };
    readonly Option<double?> _minLr = new("--min-lr") { Description = "Learning rate at the end of the cosine." + Default(Defaults.MinLearningRate) };
    readonly Option<double?> _wd = new("--wd") { Description = "Weight decay (matrices and kernels only)." + Default(Defaults.WeightDecay) };
    readonly Option<long?> _warmup = new("--warmup") { Description = "Linear warm-up steps." + Default(Defaults.WarmupSteps) };
    readonly Option<double?> _maxGradNorm = new("--max-grad-norm") { Description = "Clip the gradient norm to this (0 = no clipping)." + Default(Defaults.MaxGradNorm) };
    readonly Option<string?> _precision = new("--precision") { Description = "fp32, bf16 (fp32 master weights), or auto (bf16 where the CPU has avx512_bf16/amx_bf16)." + Default(Defaults.Precision) };
    readonly Option<bool> _checkpointing = new("--activation-checkpointing") { Description = "Recompute transformer blocks in the backward pass (less memory, ~1/3 more compute)." };
    readonly Option<bool> _freezeImage = new("--freeze-image") { Description = "Locked-image tuning: do not train the image tower." };
    readonly Option<bool> _freezeText = new("--freeze-text") { Description = "Do not train the text tower." };
    readonly Option<string?> _output = new("--output", "-o") { Description = "Run folder (becomes a model folder other verbs load)." + Default(Defaults.Output) };
    readonly Option<int?> _seed = new("--seed") { Description = "Seed of the initialisation and of the data order and augmentation." + Default(Defaults.Seed) };
    readonly Option<int?> _saveEvery = new("--save-every") { Description = "Checkpoint every N steps (0 = end and Ctrl-C only)." + Default(Defaults.SaveEvery) };
    readonly Option<int?> _evalEvery = new("--eval-every") { Description = "Evaluate every N steps (0 = at the end only)." + Default(Defaults.EvalEvery) };
    readonly Option<int?> _keep = new("--keep-checkpoints") { Description = "Checkpoints kept." + Default(Defaults.KeepCheckpoints) };
    readonly Option<double?> _minCrop = new("--min-crop-scale") { Description = "Smallest crop area of RandomResizedCrop (fraction of the image; open_clip 0.9)." + Default(Defaults.MinCropScale) };
    readonly Option<double?> _grayscale = new("--grayscale") { Description = "Chance that a training image is turned grey (RandomGrayscale)." + Default(Defaults.GrayscaleProbability) };
    readonly Option<int?> _workers = new("--workers") { Description = "Image decoding threads. [default: one per core]" };
    readonly Option<int?> _threads = new("--threads") { Description = "libtorch threads. [default: libtorch's own choice]" };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _config, _resume, _model, _init, _data, _evalData, _evalSamples, _vocab, _vocabSize, _contextLength, _loss,
                     _batchSize, _microBatch, _epochs, _steps, _lr, _minLr, _wd, _warmup, _maxGradNorm, _precision, _checkpointing, _freezeImage,
                     _freezeText, _output, _seed, _saveEvery, _evalEvery, _keep, _minCrop, _grayscale, _workers, _threads })
            command.Options.Add(o);
    }

    /// <summary>The run's config: the config file (or the resumed run's own), then every given flag over it.</summary>
    public TrainingConfig Bind(ParseResult parse)
    {
        bool Given(Option o) => parse.GetResult(o) is { Implicit: false };
        bool resuming = parse.GetValue(_resume);
        var outputDir = parse.GetValue(_output);
        string? savedConfig = resuming && parse.GetValue(_config) is null
            ? Path.Combine(outputDir ?? new TrainingConfig().Output, Trainer.ConfigFileName) : null;
        var c = parse.GetValue(_config) is { } file ? TrainingConfig.Load(file)
            : savedConfig is not null && File.Exists(savedConfig) ? TrainingConfig.Load(savedConfig)
            : new TrainingConfig();

        return c with
        {
            Resume = resuming,
            Model = parse.GetValue(_model) ?? c.Model,
            Architecture = Given(_model) ? null : c.Architecture,
            Init = parse.GetValue(_init) ?? c.Init,
            Data = parse.GetValue(_data) ?? c.Data,
            EvalData = parse.GetValue(_evalData) is { } e ? (e.Equals("none", StringComparison.OrdinalIgnoreCase) ? null : e) : c.EvalData,
            EvalSamples = parse.GetValue(_evalSamples) ?? c.EvalSamples,
            Vocab = parse.GetValue(_vocab) ?? c.Vocab,
            VocabSize = parse.GetValue(_vocabSize) ?? c.VocabSize,
            ContextLength = parse.GetValue(_contextLength) ?? c.ContextLength,
            Objective = parse.GetValue(_loss) is { } l ? ParseObjective(l) : c.Objective,
            BatchSize = parse.GetValue(_batchSize) ?? c.BatchSize,
            MicroBatchSize = parse.GetValue(_microBatch) ?? c.MicroBatchSize,
            Epochs = parse.GetValue(_epochs) ?? c.Epochs,
            Steps = parse.GetValue(_steps) ?? c.Steps,
            LearningRate = parse.GetValue(_lr) ?? c.LearningRate,
            MinLearningRate = parse.GetValue(_minLr) ?? c.MinLearningRate,
            WeightDecay = parse.GetValue(_wd) ?? c.WeightDecay,
            WarmupSteps = parse.GetValue(_warmup) ?? c.WarmupSteps,
            MaxGradNorm = parse.GetValue(_maxGradNorm) is { } g ? (g > 0 ? g : null) : c.MaxGradNorm,
            Precision = parse.GetValue(_precision) is { } p ? ComputeTarget.ParsePrecision(p, "--precision") : c.Precision,
            ActivationCheckpointing = Given(_checkpointing) ? parse.GetValue(_checkpointing) : c.ActivationCheckpointing,
            FreezeImageTower = Given(_freezeImage) ? parse.GetValue(_freezeImage) : c.FreezeImageTower,
            FreezeTextTower = Given(_freezeText) ? parse.GetValue(_freezeText) : c.FreezeTextTower,
            Output = outputDir ?? c.Output,
            Seed = parse.GetValue(_seed) ?? c.Seed,
            SaveEvery = parse.GetValue(_saveEvery) ?? c.SaveEvery,
            EvalEvery = parse.GetValue(_evalEvery) ?? c.EvalEvery,
            KeepCheckpoints = parse.GetValue(_keep) ?? c.KeepCheckpoints,
            MinCropScale = parse.GetValue(_minCrop) ?? c.MinCropScale,
            GrayscaleProbability = parse.GetValue(_grayscale) ?? c.GrayscaleProbability,
            Workers = parse.GetValue(_workers) ?? c.Workers,
            Threads = parse.GetValue(_threads) ?? c.Threads,
        };
    }

    /// <summary>" [default: X]" as System.CommandLine writes it for options with a default value (these have none of their own:
    /// an option's default would override the config file).</summary>
    static string Default(object? value) => value switch
    {
        null => "",
        double d => string.Create(CultureInfo.InvariantCulture, $" [default: {d:G}]"),
        ObjectiveKind o => $" [default: {o.ToString().ToLowerInvariant()}]",
        Precision.Float32 => " [default: fp32]",
        _ => string.Create(CultureInfo.InvariantCulture, $" [default: {value}]"),
    };

    static ObjectiveKind ParseObjective(string value) => value.Trim().ToLowerInvariant() switch
    {
        "clip" => ObjectiveKind.Clip,
        "siglip" => ObjectiveKind.SigLip,
        _ => throw new ArgumentException($"--loss {value}: expected clip or siglip"),
    };
}
