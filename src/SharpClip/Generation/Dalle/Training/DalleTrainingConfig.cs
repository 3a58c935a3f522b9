using System.Text.Json;
using System.Text.Json.Nodes;
using SharpClip.Data;
using SharpClip.Generation.Training;

namespace SharpClip.Generation.Dalle.Training;

/// <summary>
/// Everything a DALL-E transformer run needs (<c>sharpclip train-dalle --config FILE</c>): a trained dVAE, the data,
/// the transformer's size, the loss weights, optimisation and the run. Snake_case JSON like CLIP's training config.
/// </summary>
public sealed record DalleTrainingConfig : IGenerativeRunSettings
{
    // ---- inputs ----------------------------------------------------------------------------------------------
    /// <summary>A dVAE folder (<c>encoder.*</c> + <c>decoder.*</c>, e.g. a train-dvae run) that turns images into tokens.</summary>
    public string Dvae { get; init; } = "runs/dvae";
    /// <summary>Images are resized and centre-cropped to this side before the dVAE; the grid is side / 8.</summary>
    public int ImageSize { get; init; } = 32;
    public string Data { get; init; } = "synthetic:shapes:train";
    public DataSourceOptions? DataOptions { get; init; }
    public int? Workers { get; init; }
    /// <summary>A BPE vocabulary file; null = one learned from the training captions.</summary>
    public string? Vocab { get; init; }
    public int VocabSize { get; init; } = 1024;
    public int VocabSamples { get; init; } = 20_000;

    // ---- the model -------------------------------------------------------------------------------------------
    public int TextLength { get; init; } = 24;
    public int Width { get; init; } = 256;
    public int Layers { get; init; } = 4;
    public int Heads { get; init; } = 4;

    // ---- the objective and optimisation ----------------------------------------------------------------------
    /// <summary>Weight of the caption cross-entropy (the paper: 1/8 of the loss).</summary>
    public double TextLossWeight { get; init; } = 1;
    /// <summary>Weight of the image cross-entropy (the paper: 7/8).</summary>
    public double ImageLossWeight { get; init; } = 7;
    public int BatchSize { get; init; } = 32;
    /// <summary>Samples per forward/backward pass; smaller than the batch = gradient accumulation. Null = whole batch.</summary>
    public int? MicroBatchSize { get; init; }
    public long Steps { get; init; } = 2000;
    public double LearningRate { get; init; } = 5e-4;
    public double MinLearningRate { get; init; } = 1e-5;
    public long WarmupSteps { get; init; } = 100;
    public double WeightDecay { get; init; } = 0.01;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.96;
    public double Epsilon { get; init; } = 1e-8;
    public double? MaxGradNorm { get; init; } = 1.0;
    /// <summary>Keep an exponential moving average of the weights with this decay (e.g. 0.999) and write it as the model; null = off.</summary>
    public double? EmaDecay { get; init; }

    // ---- the run ---------------------------------------------------------------------------------------------
    public string Output { get; init; } = "runs/dalle";
    public int Seed { get; init; }
    public int SaveEvery { get; init; } = 500;
    public int KeepCheckpoints { get; init; } = 2;
    public bool Resume { get; init; }
    public int? Threads { get; init; }

    public static DalleTrainingConfig Load(string path) => GenerativeConfigJson.Load<DalleTrainingConfig>(path);
    public string ToJson() => JsonSerializer.Serialize(this, GenerativeConfigJson.Options);
    public JsonNode ToJsonNode() => JsonSerializer.SerializeToNode(this, GenerativeConfigJson.Options)!;

    public DalleTrainingConfig Validate()
    {
        var r = new GenerativeConfigJson.Checker("DALL-E training config");
        r.Require(!string.IsNullOrWhiteSpace(Dvae), nameof(Dvae), "no dVAE folder given");
        r.Require(ImageSize > 0, nameof(ImageSize), "must be positive");
        r.Require(VocabSize >= 514, nameof(VocabSize), "must be at least 514 (byte symbols and special tokens)");
        r.Require(VocabSamples > 0, nameof(VocabSamples), "must be positive");
        r.Require(TextLength >= 2, nameof(TextLength), "must be at least 2");
        r.Require(Width > 0 && Heads > 0 && Width % Heads == 0, nameof(Heads), "the width must divide into the heads");
        r.Require(Layers > 0, nameof(Layers), "must be positive");
        r.Require(TextLossWeight >= 0 && ImageLossWeight >= 0 && TextLossWeight + ImageLossWeight > 0, nameof(ImageLossWeight), "weights must be non-negative and not both 0");
        r.Require(MicroBatchSize is null or > 0, nameof(MicroBatchSize), "must be positive");
        r.Require(EmaDecay is null or (> 0 and < 1), nameof(EmaDecay), "must be in (0, 1)");
        r.RequireRunSettings(this);
        return this;
    }
}
