using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using SharpClip.Data;
using SharpClip.Generation.Diffusion.Autoencoder;
using SharpClip.Generation.Diffusion.UNet;
using SharpClip.Generation.Training;

namespace SharpClip.Generation.Diffusion.Training;

/// <summary>The two stages of latent diffusion training, run one after the other.</summary>
public enum DiffusionStage
{
    /// <summary>Stage 1: the KL autoencoder (images ↔ latents).</summary>
    Autoencoder,

    /// <summary>Stage 2: the U-Net on the frozen autoencoder's latents, conditioned on a frozen CLIP text tower.</summary>
    Unet,
}

/// <summary>How the autoencoder's reconstruction is measured (LDM's LPIPSWithDiscriminator uses L1 plus LPIPS).</summary>
public enum AutoencoderReconstruction { L1, L2 }

/// <summary>
/// Everything a latent diffusion run needs (<c>sharpclip train-diffusion --config FILE</c>): which stage, the data and
/// image size, the autoencoder's or the U-Net's size, the objective, optimisation and the run. One file per stage
/// (<c>examples/diffusion-emoji/autoencoder.json</c>, <c>unet.json</c>); fields of the other stage keep their defaults.
/// Snake_case JSON like CLIP's training config; unknown fields are errors; flags override fields.
/// </summary>
/// <remarks>
/// Not offered: LDM's perceptual (LPIPS) and adversarial (patch discriminator) autoencoder terms. LPIPS needs VGG-16
/// ImageNet weights, which SharpClip cannot fetch or ship; the discriminator is off by default in small runs anyway
/// (LDM starts it after 50 001 steps). The autoencoder learns from reconstruction + KL alone, which blurs fine detail
/// more than LDM's released autoencoders.
/// </remarks>
public sealed record DiffusionTrainingConfig : IGenerativeRunSettings
{
    public DiffusionStage Stage { get; init; } = DiffusionStage.Autoencoder;

    // ---- data --------------------------------------------------------------------------------------------------
    /// <summary>Training images are resized and centre-cropped to this square side.</summary>
    public int ImageSize { get; init; } = 32;
    public string Data { get; init; } = "synthetic:shapes:train";
    public DataSourceOptions? DataOptions { get; init; }
    public int? Workers { get; init; }

    // ---- stage 1: the KL autoencoder (the reference's ddconfig names in the comments) ---------------------------
    /// <summary><c>ch</c>: channels of the first level; every level's <c>ch · ch_mult</c> must divide into GroupNorm's 32 groups.</summary>
    public int AutoencoderChannels { get; init; } = 32;
    /// <summary><c>ch_mult</c>: one entry per level; the latent is 2^(levels − 1) times smaller than the image.</summary>
    public int[] AutoencoderChannelMult { get; init; } = [1, 2, 2];
    /// <summary><c>num_res_blocks</c>.</summary>
    public int AutoencoderResBlocks { get; init; } = 1;
    /// <summary>Levels (0 = full resolution) whose blocks get self-attention; empty as SD.</summary>
    public int[] AutoencoderAttentionLevels { get; init; } = [];
    /// <summary><c>z_channels</c> = <c>embed_dim</c>: channels of the latent (SD: 4).</summary>
    public int LatentChannels { get; init; } = 4;
    public AutoencoderReconstruction Reconstruction { get; init; } = AutoencoderReconstruction.L1;
    /// <summary>Weight of the KL term against the per-image summed reconstruction (LDM's kl_weight: 1e-6).</summary>
    public double KlWeight { get; init; } = 1e-6;

    // ---- stage 2: the U-Net and its conditioning ----------------------------------------------------------------
    /// <summary>The stage-1 run folder (its <c>autoencoder.safetensors</c>), frozen.</summary>
    public string? Autoencoder { get; init; }
    /// <summary>The CLIP whose text tower conditions the U-Net, frozen: any model SharpClip loads (e.g. runs/emoji).</summary>
    [JsonPropertyName("clip")] public string? ClipModel { get; init; }
    /// <summary>A vocabulary for a CLIP that carries none (a bare weight file).</summary>
    public string? ClipVocab { get; init; }
    /// <summary><c>model_channels</c>: a multiple of 32 (GroupNorm's groups; also fills oneDNN's 16-float register block).</summary>
    public int UnetChannels { get; init; } = 64;
    /// <summary><c>channel_mult</c>; the latent side must divide by 2^(levels − 1).</summary>
    public int[] UnetChannelMult { get; init; } = [1, 2];
    /// <summary><c>num_res_blocks</c>.</summary>
    public int UnetResBlocks { get; init; } = 1;
    /// <summary><c>attention_resolutions</c>: downsampling factors (1, 2, ...) whose blocks cross-attend to the text.</summary>
    public int[] UnetAttentionResolutions { get; init; } = [1, 2];
    /// <summary><c>num_heads</c> per spatial transformer.</summary>
    public int UnetHeads { get; init; } = 4;
    /// <summary><c>transformer_depth</c>.</summary>
    public int UnetTransformerDepth { get; init; } = 1;
    /// <summary>Fraction of captions replaced by the empty caption, so the model also learns the unconditional side guidance needs.</summary>
    public double CaptionDropout { get; init; } = 0.1;
    /// <summary>Decay of the weights' moving average, which the model folder publishes; null = publish the last weights.</summary>
    public double? EmaDecay { get; init; } = 0.999;
    /// <summary>The DDPM schedule (SD's: linear in √β from 0.00085 to 0.012 over 1000 steps).</summary>
    public double LinearStart { get; init; } = 0.00085;
    public double LinearEnd { get; init; } = 0.012;
    public int Timesteps { get; init; } = 1000;
    /// <summary>Latent scale; null = LDM's rule, 1 / std of the first batch's latents (recorded in the model folder).</summary>
    public double? ScaleFactor { get; init; }

    // ---- optimisation ------------------------------------------------------------------------------------------
    public int BatchSize { get; init; } = 32;
    public long Steps { get; init; } = 2000;
    public double LearningRate { get; init; } = 2e-4;
    public double MinLearningRate { get; init; } = 1e-6;
    public long WarmupSteps { get; init; } = 100;
    public double WeightDecay { get; init; } = 0.01;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;
    public double? MaxGradNorm { get; init; } = 1.0;

    // ---- the run -----------------------------------------------------------------------------------------------
    public string Output { get; init; } = "runs/diffusion";
    public int Seed { get; init; }
    public int SaveEvery { get; init; } = 500;
    public int KeepCheckpoints { get; init; } = 2;
    public bool Resume { get; init; }
    public int? Threads { get; init; }

    public static DiffusionTrainingConfig Load(string path) => GenerativeConfigJson.Load<DiffusionTrainingConfig>(path);
    public string ToJson() => JsonSerializer.Serialize(this, GenerativeConfigJson.Options);
    public JsonNode ToJsonNode() => JsonSerializer.SerializeToNode(this, GenerativeConfigJson.Options)!;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field (those of the configured stage and the shared ones).</summary>
    public DiffusionTrainingConfig Validate()
    {
        var r = new GenerativeConfigJson.Checker("diffusion training config");
        r.Require(Enum.IsDefined(Stage), nameof(Stage), "must be autoencoder or unet");
        r.Require(ImageSize > 0, nameof(ImageSize), "must be positive");
        if (Stage == DiffusionStage.Autoencoder)
        {
            r.Require(AutoencoderChannelMult is { Length: > 0 } && AutoencoderChannelMult.All(m => m > 0), nameof(AutoencoderChannelMult), "must be a non-empty list of positive numbers");
            r.Require(AutoencoderChannels > 0 && AutoencoderChannelMult.All(m => AutoencoderChannels * m % 32 == 0), nameof(AutoencoderChannels),
                "every level's channels (autoencoder_channels × autoencoder_channel_mult) must be a positive multiple of 32 (GroupNorm's groups)");
            r.Require(ImageSize % (1 << (AutoencoderChannelMult.Length - 1)) == 0, nameof(ImageSize),
                $"must be a multiple of {1 << (AutoencoderChannelMult.Length - 1)} (the autoencoder's downsampling)");
            r.Require(AutoencoderResBlocks > 0, nameof(AutoencoderResBlocks), "must be positive");
            r.Require(AutoencoderAttentionLevels.All(l => l >= 0 && l < AutoencoderChannelMult.Length), nameof(AutoencoderAttentionLevels),
                $"levels must be in 0..{AutoencoderChannelMult.Length - 1}");
            r.Require(LatentChannels > 0, nameof(LatentChannels), "must be positive");
            r.Require(Enum.IsDefined(Reconstruction), nameof(Reconstruction), "must be l1 or l2");
            r.Require(KlWeight >= 0, nameof(KlWeight), "must not be negative");
        }
        else
        {
            r.Require(!string.IsNullOrWhiteSpace(Autoencoder), nameof(Autoencoder), "no autoencoder run folder given (train stage 1 first; --autoencoder RUN)");
            r.Require(!string.IsNullOrWhiteSpace(ClipModel), "clip", "no CLIP model given for the text conditioning (--clip MODEL)");
            r.Require(UnetChannels > 0 && UnetChannels % 32 == 0, nameof(UnetChannels), "must be a positive multiple of 32 (GroupNorm's groups)");
            r.Require(UnetChannelMult is { Length: > 0 } && UnetChannelMult.All(m => m > 0), nameof(UnetChannelMult), "must be a non-empty list of positive numbers");
            r.Require(UnetResBlocks > 0, nameof(UnetResBlocks), "must be positive");
            r.Require(UnetAttentionResolutions.All(a => a > 0 && (a & (a - 1)) == 0), nameof(UnetAttentionResolutions), "must be powers of 2 (1, 2, 4, ...)");
            r.Require(UnetHeads > 0 && UnetChannelMult.All(m => UnetChannels * m % UnetHeads == 0), nameof(UnetHeads),
                "every level's channels must divide into the heads");
            r.Require(UnetTransformerDepth > 0, nameof(UnetTransformerDepth), "must be positive");
            r.Require(CaptionDropout is >= 0 and < 1, nameof(CaptionDropout), "must be in [0, 1)");
            r.Require(EmaDecay is null or (> 0 and < 1), nameof(EmaDecay), "must be in (0, 1)");
            r.Require(LinearStart > 0 && LinearEnd > LinearStart && LinearEnd < 1, nameof(LinearEnd), "need 0 < linear_start < linear_end < 1");
            r.Require(Timesteps >= 2, nameof(Timesteps), "must be at least 2");
            r.Require(ScaleFactor is null or > 0, nameof(ScaleFactor), "must be positive (or null for 1 / std of the first batch's latents)");
        }
        r.RequireRunSettings(this);
        return this;
    }

    /// <summary>The autoencoder this config builds (stage 1).</summary>
    public AutoencoderConfig AutoencoderShape => new()
    {
        Channels = AutoencoderChannels, ChannelMultipliers = AutoencoderChannelMult, ResBlocks = AutoencoderResBlocks,
        ZChannels = LatentChannels, EmbedDim = LatentChannels, AttentionLevels = AutoencoderAttentionLevels,
    };

    /// <summary>The U-Net this config builds (stage 2) over latents of <paramref name="latentChannels"/> and text states <paramref name="contextDim"/> wide.</summary>
    public UNetConfig UNetShape(int latentChannels, int contextDim) => new UNetConfig
    {
        InChannels = latentChannels, OutChannels = latentChannels, ModelChannels = UnetChannels, ChannelMult = UnetChannelMult,
        NumResBlocks = UnetResBlocks, AttentionResolutions = UnetAttentionResolutions, NumHeads = UnetHeads, NumHeadChannels = -1,
        TransformerDepth = UnetTransformerDepth, ContextDim = contextDim,
    }.Validate();
}
