using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using SharpClip.Data;
using SharpClip.Modeling;
using SharpClip.Runtime;

namespace SharpClip.Training;

/// <summary>
/// Everything a training run needs, with defaults that train the tiny preset on the built-in synthetic shapes.
/// A plain record in the nanoGPT spirit: read it top to bottom to know what a run does. Stored as JSON with
/// snake_case names (<see cref="Load"/>, <see cref="ToJson"/>); the CLI's flags override single fields.
/// </summary>
public sealed record TrainingConfig
{
    // ---- the model -------------------------------------------------------------------------------------------
    /// <summary>Architecture by name when training from scratch: a <see cref="ClipPresets"/> name or "tiny" (<see cref="TrainingPresets"/>).</summary>
    public string Model { get; init; } = "tiny";

    /// <summary>An explicit architecture; overrides <see cref="Model"/>.</summary>
    public ClipConfig? Architecture { get; init; }

    /// <summary>A checkpoint to fine-tune (anything <c>CheckpointLoader.Read</c> opens); overrides both of the above.</summary>
    public string? Init { get; init; }

    // ---- data ------------------------------------------------------------------------------------------------
    /// <summary>Training pairs: <c>synthetic:shapes:train</c>, a CSV/TSV, JSONL, folder or tar-shard spec.</summary>
    public string Data { get; init; } = "synthetic:shapes:train";

    /// <summary>Validation pairs for retrieval metrics (and zero-shot on the synthetic set); null = none.</summary>
    public string? EvalData { get; init; } = "synthetic:shapes:validation";

    /// <summary>Per-format reader settings (CSV columns, synthetic set size, ...).</summary>
    public DataSourceOptions? DataOptions { get; init; }

    /// <summary>Validation pairs used per evaluation (the first ones in file order).</summary>
    public int EvalSamples { get; init; } = 1000;

    /// <summary>RandomResizedCrop's area range (open_clip: 0.9 to 1).</summary>
    public double MinCropScale { get; init; } = 0.9;

    /// <summary>Chance that a training image is turned grey (torchvision's RandomGrayscale); 0 = never, as open_clip.</summary>
    public double GrayscaleProbability { get; init; }

    /// <summary>Image decoding/augmentation threads; null = one per core.</summary>
    public int? Workers { get; init; }

    // ---- text ------------------------------------------------------------------------------------------------
    /// <summary>A vocabulary file; null = the checkpoint's when fine-tuning, else one learned from the training captions.</summary>
    public string? Vocab { get; init; }

    /// <summary>Size of a learned vocabulary (512 byte symbols + merges + 2 special tokens); training may stop short.</summary>
    public int VocabSize { get; init; } = 2048;

    /// <summary>Training samples whose captions the vocabulary is learned from.</summary>
    public int VocabSamples { get; init; } = 20_000;

    /// <summary>Text context length when training from scratch; null = the architecture's (77 for CLIP).</summary>
    public int? ContextLength { get; init; }

    // ---- optimisation ----------------------------------------------------------------------------------------
    public ObjectiveKind Objective { get; init; } = ObjectiveKind.Clip;

    /// <summary>Pairs per optimizer step: the contrastive batch (every image is scored against this many texts).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Pairs per forward/backward pass; smaller than the batch = exact gradient-cache accumulation. Null = whole batch.</summary>
    public int? MicroBatchSize { get; init; }

    /// <summary>Passes over the training data; ignored when <see cref="Steps"/> is set.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Optimizer steps in the run; null = <see cref="Epochs"/> × batches per epoch.</summary>
    public long? Steps { get; init; }

    public double LearningRate { get; init; } = 5e-4;

    /// <summary>The rate the cosine decays to.</summary>
    public double MinLearningRate { get; init; }

    /// <summary>Decoupled weight decay, on matrices and kernels only (<see cref="WeightDecayRule"/>).</summary>
    public double WeightDecay { get; init; } = 0.2;

    public long WarmupSteps { get; init; } = 100;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.98;
    public double Epsilon { get; init; } = 1e-6;

    /// <summary>Clip the global gradient L2 norm to this; null = no clipping.</summary>
    public double? MaxGradNorm { get; init; } = 1.0;

    // ---- options ---------------------------------------------------------------------------------------------
    /// <summary>Float32; BFloat16 (fp32 master weights, see <c>MixedPrecision</c>); Auto = bf16 only where the CPU has bf16 instructions.</summary>
    public Precision Precision { get; init; } = Precision.Float32;

    public bool ActivationCheckpointing { get; init; }

    /// <summary>Locked-image tuning: keep the image tower as loaded.</summary>
    public bool FreezeImageTower { get; init; }

    public bool FreezeTextTower { get; init; }

    // ---- the run ---------------------------------------------------------------------------------------------
    /// <summary>The run's folder: the model folder, metrics.jsonl, training_config.json and checkpoints/.</summary>
    public string Output { get; init; } = "runs/train";

    public int Seed { get; init; }

    /// <summary>Save a checkpoint (and the model folder) every this many steps; 0 = only at the end and on interruption.</summary>
    public int SaveEvery { get; init; } = 500;

    /// <summary>Evaluate every this many steps; 0 = only at the end.</summary>
    public int EvalEvery { get; init; } = 500;

    /// <summary>Checkpoints kept (older ones are deleted).</summary>
    public int KeepCheckpoints { get; init; } = 2;

    /// <summary>Continue from the newest intact checkpoint in <see cref="Output"/>.</summary>
    public bool Resume { get; init; }

    /// <summary>libtorch intra-op threads; null = libtorch's default (one per core).</summary>
    public int? Threads { get; init; }

    /// <summary>JSON settings: snake_case names, enums as strings, comments and trailing commas allowed.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Reads a JSON config; unknown fields are errors (a misspelt field would otherwise be silently ignored).</summary>
    /// <exception cref="InvalidDataException">unreadable JSON or an unknown/malformed field; the message names the file.</exception>
    public static TrainingConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"training config not found: {path}", path);
        try { return JsonSerializer.Deserialize<TrainingConfig>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path}: empty config"); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: {Readable(e)}", e); }
    }

    /// <summary>System.Text.Json's message names .NET types ("System.Nullable`1[System.Int64]"); say the field and the kind of value instead.</summary>
    static string Readable(JsonException e)
    {
        var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? null : e.Path.TrimStart('$', '.');
        var wanted = System.Text.RegularExpressions.Regex.Match(e.Message, @"converted to ([\w.`\[\]]+)") is { Success: true } m ? KindOf(m.Groups[1].Value.TrimEnd('.')) : null;
        if (System.Text.RegularExpressions.Regex.Match(e.Message, "The JSON property '([^']+)' could not be mapped") is { Success: true } unknown)
            return $"unknown field '{unknown.Groups[1].Value}' (a misspelling? 'sharpclip train --help' lists the fields as flags)";
        if (field is null && e.Message.Contains("could not be converted", StringComparison.Ordinal))
            return "a training config must be one JSON object of fields (snake_case, as 'sharpclip train --help' lists them as flags)";
        if (field is null || wanted is null) return e.Message;
        return $"field '{field}' must be {wanted}" + (e.LineNumber is { } line ? $" (line {line + 1})" : "");
    }

    static string KindOf(string typeName)
    {
        var inner = typeName.Contains("Nullable") && typeName.IndexOf('[') is int i and >= 0 ? typeName[(i + 1)..].TrimEnd(']') : typeName;
        return inner switch
        {
            "System.Int32" or "System.Int64" => "a whole number",
            "System.Double" or "System.Single" => "a number",
            "System.Boolean" => "true or false",
            "System.String" => "a string",
            _ when inner.StartsWith("System.Collections", StringComparison.Ordinal) || inner.EndsWith("[]", StringComparison.Ordinal) => "a list",
            _ when inner.StartsWith("SharpClip.", StringComparison.Ordinal) => $"one of the {inner[(inner.LastIndexOf('.') + 1)..]} names",
            _ => "of another kind",
        };
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public JsonNode ToJsonNode() => JsonSerializer.SerializeToNode(this, Json)!;

    /// <summary>Checks values that would otherwise fail late; throws <see cref="ArgumentException"/> naming the field.</summary>
    public TrainingConfig Validate()
    {
        void Require(bool ok, string field, string why) { if (!ok) throw new ArgumentException($"training config field '{JsonNamingPolicy.SnakeCaseLower.ConvertName(field)}': {why}"); }
        Require(!string.IsNullOrWhiteSpace(Data), nameof(Data), "no training data given");
        Require(!string.IsNullOrWhiteSpace(Output), nameof(Output), "no output folder given");
        Require(BatchSize >= 2, nameof(BatchSize), "a contrastive batch needs at least 2 pairs");
        Require(MicroBatchSize is null or > 0, nameof(MicroBatchSize), "must be positive");
        Require(Epochs > 0, nameof(Epochs), "must be positive");
        Require(Steps is null or > 0, nameof(Steps), "must be positive");
        Require(LearningRate > 0, nameof(LearningRate), "must be positive");
        Require(MinLearningRate >= 0 && MinLearningRate <= LearningRate, nameof(MinLearningRate), "must be in [0, learning_rate]");
        Require(WeightDecay >= 0, nameof(WeightDecay), "must not be negative");
        Require(WarmupSteps >= 0, nameof(WarmupSteps), "must not be negative");
        Require(Beta1 is >= 0 and < 1, nameof(Beta1), "must be in [0, 1)");
        Require(Beta2 is >= 0 and < 1, nameof(Beta2), "must be in [0, 1)");
        Require(Epsilon > 0, nameof(Epsilon), "must be positive");
        Require(MaxGradNorm is null or > 0, nameof(MaxGradNorm), "must be positive");
        Require(!(FreezeImageTower && FreezeTextTower), nameof(FreezeTextTower), "freezing both towers leaves nothing to train");
        Require(EvalSamples >= 2, nameof(EvalSamples), "must be at least 2");
        Require(MinCropScale is > 0 and <= 1, nameof(MinCropScale), "must be in (0, 1]");
        Require(GrayscaleProbability is >= 0 and <= 1, nameof(GrayscaleProbability), "must be in [0, 1]");
        Require(Workers is null or > 0, nameof(Workers), "must be positive");
        Require(VocabSize >= 514, nameof(VocabSize), "must be at least 514 (byte symbols and special tokens)");
        Require(VocabSamples > 0, nameof(VocabSamples), "must be positive");
        Require(ContextLength is null or >= 4, nameof(ContextLength), "must be at least 4");
        Require(SaveEvery >= 0, nameof(SaveEvery), "must not be negative");
        Require(EvalEvery >= 0, nameof(EvalEvery), "must not be negative");
        Require(KeepCheckpoints >= 1, nameof(KeepCheckpoints), "must be at least 1");
        Require(Threads is null or > 0, nameof(Threads), "must be positive");
        Require(Precision != Precision.Int8, nameof(Precision), "int8 is for inference on the ONNX engine (--precision int8 on the model verbs); training runs in fp32, bf16 or auto");
        if (Architecture is not null)
        {
            try { Architecture.Validate(); }
            catch (ArgumentException e) { throw new ArgumentException($"training config field 'architecture': {e.Message}", e); }
        }
        return this;
    }
}

/// <summary>Architectures for training from scratch that <see cref="ClipPresets"/> does not list.</summary>
public static class TrainingPresets
{
    /// <summary>
    /// The smallest useful CLIP: a ViT of 2 blocks of width 128 on 32×32 images with 8×8 patches, a text tower of 2
    /// blocks of width 128, 64-dimensional embeddings (the reference benchmark's "tiny ViT",
    /// <c>CLIP(64, 32, 2, 128, 8, 77, 49408, 128, 2, 2)</c>). A run replaces vocabulary size and context length with
    /// its tokenizer's.
    /// </summary>
    public static ClipConfig Tiny { get; } = new()
    {
        EmbedDim = 64, ImageResolution = 32, VisionLayers = [2], VisionWidth = 128, VisionPatchSize = 8,
        ContextLength = 77, VocabSize = 49408, TextWidth = 128, TextHeads = 2, TextLayers = 2,
    };

    /// <summary>"tiny", or any <see cref="ClipPresets"/> name.</summary>
    public static ClipConfig Get(string name) =>
        name.Trim().Equals("tiny", StringComparison.OrdinalIgnoreCase) ? Tiny
        : ClipPresets.TryGet(name) ?? throw new ArgumentException($"unknown model preset '{name}'; known: tiny, {string.Join(", ", ClipPresets.Names)}");
}
