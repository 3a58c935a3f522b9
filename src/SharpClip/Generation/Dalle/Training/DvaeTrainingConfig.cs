using System.Text.Json;
using System.Text.Json.Nodes;
using SharpClip.Data;
using SharpClip.Generation.Training;

namespace SharpClip.Generation.Dalle.Training;

/// <summary>
/// Everything a dVAE training run needs (<c>sharpclip train-dvae --config FILE</c>): the model's size, the paper's
/// schedules, optimisation and the run. Stored as snake_case JSON like CLIP's training config; flags override fields.
/// </summary>
public sealed record DvaeTrainingConfig : IGenerativeRunSettings
{
    // ---- the model -------------------------------------------------------------------------------------------
    /// <summary>Training images are resized and centre-cropped to this square side; a multiple of 2^(groups−1).</summary>
    public int ImageSize { get; init; } = 32;
    public int GroupCount { get; init; } = 4;
    /// <summary>n_hid (256 released); a multiple of 4.</summary>
    public int HiddenWidth { get; init; } = 32;
    /// <summary>n_init of the decoder (128 released).</summary>
    public int InitialWidth { get; init; } = 32;
    public int BlocksPerGroup { get; init; } = 1;
    /// <summary>Codebook size (8192 released).</summary>
    public int VocabSize { get; init; } = 512;

    // ---- the objective ---------------------------------------------------------------------------------------
    public ReconstructionLoss Reconstruction { get; init; } = ReconstructionLoss.LogitLaplace;
    public double TemperatureStart { get; init; } = 1.0;
    public double TemperatureEnd { get; init; } = 1.0 / 16;
    /// <summary>Steps over which the temperature is annealed; null = the whole run.</summary>
    public long? TemperatureSteps { get; init; }
    /// <summary>How the temperature falls (<see cref="DvaeSchedules.Temperature"/>): the paper's cosine, or exponential.</summary>
    public TemperatureShape TemperatureShape { get; init; } = TemperatureShape.Cosine;
    /// <summary>Final KL weight β (the paper: 6.6, which it found to promote codebook use). Lowering it is not the cure
    /// for a collapsed codebook: in a 200-step probe of the emoji recipe β = 0.4 had collapsed onto one code by step 60 (batch perplexity 1.1,
    /// and colour gone) while 6.6 kept ~11 in use at that point and ~40 at the end.</summary>
    public double KlWeight { get; init; } = 6.6;
    /// <summary>Steps over which β rises from 0 (the paper: 5000 of 3 M); null = a tenth of the run.</summary>
    public long? KlWarmupSteps { get; init; }
    /// <summary>Straight-through one-hot codes in the forward pass instead of the soft relaxation.</summary>
    public bool Hard { get; init; }
    /// <summary>Steps without use after which a code counts as dead.</summary>
    public int DeadCodeWindow { get; init; } = 100;

    // ---- data and optimisation -------------------------------------------------------------------------------
    public string Data { get; init; } = "synthetic:shapes:train";
    public DataSourceOptions? DataOptions { get; init; }
    public int? Workers { get; init; }
    public int BatchSize { get; init; } = 32;
    public long Steps { get; init; } = 2000;
    public double LearningRate { get; init; } = 1e-3;
    public double MinLearningRate { get; init; } = 1e-5;
    public long WarmupSteps { get; init; } = 50;
    public double WeightDecay { get; init; } = 1e-4;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;
    public double? MaxGradNorm { get; init; } = 1.0;

    // ---- the run ---------------------------------------------------------------------------------------------
    public string Output { get; init; } = "runs/dvae";
    public int Seed { get; init; }
    public int SaveEvery { get; init; } = 500;
    public int KeepCheckpoints { get; init; } = 2;
    public bool Resume { get; init; }
    public int? Threads { get; init; }

    public long TemperatureAnnealSteps => TemperatureSteps ?? Steps;
    public long KlRampSteps => KlWarmupSteps ?? Math.Max(1, Steps / 10);

    public static DvaeTrainingConfig Load(string path) => GenerativeConfigJson.Load<DvaeTrainingConfig>(path);
    public string ToJson() => JsonSerializer.Serialize(this, GenerativeConfigJson.Options);
    public JsonNode ToJsonNode() => JsonSerializer.SerializeToNode(this, GenerativeConfigJson.Options)!;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field.</summary>
    public DvaeTrainingConfig Validate()
    {
        var r = new GenerativeConfigJson.Checker("dVAE training config");
        r.Require(GroupCount is >= 2 and <= 6, nameof(GroupCount), "must be in [2, 6]");
        r.Require(ImageSize > 0 && ImageSize % (1 << (GroupCount - 1)) == 0, nameof(ImageSize), $"must be a positive multiple of {1 << (GroupCount - 1)} (the downsampling of {GroupCount} groups)");
        r.Require(HiddenWidth > 0 && HiddenWidth % 4 == 0, nameof(HiddenWidth), "must be a positive multiple of 4");
        r.Require(InitialWidth > 0, nameof(InitialWidth), "must be positive");
        r.Require(BlocksPerGroup > 0, nameof(BlocksPerGroup), "must be positive");
        r.Require(VocabSize >= 2, nameof(VocabSize), "must be at least 2");
        r.Require(TemperatureStart > 0 && TemperatureEnd > 0, nameof(TemperatureEnd), "temperatures must be positive");
        r.Require(TemperatureSteps is null or > 0, nameof(TemperatureSteps), "must be positive");
        r.Require(KlWeight >= 0, nameof(KlWeight), "must not be negative");
        r.Require(KlWarmupSteps is null or >= 0, nameof(KlWarmupSteps), "must not be negative");
        r.Require(DeadCodeWindow > 0, nameof(DeadCodeWindow), "must be positive");
        r.RequireRunSettings(this);
        return this;
    }
}
