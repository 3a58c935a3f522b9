using System.Text.Json;

namespace SharpClip.Generation.Diffusion.Autoencoder;

/// <summary>
/// The shape of a KL autoencoder, in the reference's terms (<c>AutoencoderKL(ddconfig, embed_dim)</c> of
/// CompVis/stable-diffusion). Stable Diffusion 1.x/2.x use ch 128, ch_mult [1, 2, 4, 4], 2 res blocks, z_channels 4,
/// embed_dim 4 and no attention outside the mid blocks.
/// </summary>
public sealed record AutoencoderConfig
{
    /// <summary><c>ch</c>: channels of the first level; level i has <c>ch · ch_mult[i]</c>.</summary>
    public int Channels { get; init; } = 128;

    /// <summary><c>ch_mult</c>: one entry per resolution level; the image is 2^(levels−1) times the latent.</summary>
    public int[] ChannelMultipliers { get; init; } = [1, 2, 4, 4];

    /// <summary><c>num_res_blocks</c>: ResnetBlocks per encoder level (the decoder has one more per level).</summary>
    public int ResBlocks { get; init; } = 2;

    /// <summary><c>z_channels</c>: channels of the encoder's output half (it emits 2·z for mean and log-variance).</summary>
    public int ZChannels { get; init; } = 4;

    /// <summary><c>embed_dim</c>: channels of the latent the diffusion model sees (after <c>quant_conv</c>).</summary>
    public int EmbedDim { get; init; } = 4;

    /// <summary><c>in_channels</c> of the encoder (3 for RGB).</summary>
    public int InChannels { get; init; } = 3;

    /// <summary><c>out_ch</c> of the decoder (3 for RGB).</summary>
    public int OutChannels { get; init; } = 3;

    /// <summary>
    /// Levels whose ResnetBlocks are each followed by an attention block (the reference's <c>attn_resolutions</c>,
    /// as level indices: level i works at resolution / 2^i). Empty for SD.
    /// </summary>
    public int[] AttentionLevels { get; init; } = [];

    /// <summary>Resolution levels.</summary>
    public int Levels => ChannelMultipliers.Length;

    /// <summary>How many image pixels one latent position covers per side: 2^(levels−1) (8 for SD).</summary>
    public int DownsampleFactor => 1 << (Levels - 1);

    /// <summary>Channels of level <paramref name="level"/>.</summary>
    public int LevelChannels(int level) => Channels * ChannelMultipliers[level];

    /// <summary>Stable Diffusion 1.x/2.x's autoencoder (kl-f8).</summary>
    public static AutoencoderConfig StableDiffusion { get; } = new();

    /// <summary>
    /// Reads the reference's constructor arguments: an object with <c>embed_dim</c> and <c>ddconfig</c> (<c>ch</c>,
    /// <c>ch_mult</c>, <c>num_res_blocks</c>, <c>z_channels</c>, <c>in_channels</c>, <c>out_ch</c>,
    /// <c>attn_resolutions</c>, <c>resolution</c>), as in v1-inference.yaml's <c>first_stage_config.params</c>.
    /// </summary>
    /// <param name="parameters">The JSON object holding <c>embed_dim</c> and <c>ddconfig</c>.</param>
    /// <param name="source">Named in errors (the file the object came from).</param>
    public static AutoencoderConfig FromLdmParams(JsonElement parameters, string source)
    {
        try
        {
            var dd = parameters.GetProperty("ddconfig");
            if (dd.TryGetProperty("double_z", out var doubleZ) && doubleZ.ValueKind == JsonValueKind.False)
                throw new InvalidDataException("ddconfig.double_z is false; a KL autoencoder's encoder emits mean and log-variance (double_z true)");
            int[] mult = [.. dd.GetProperty("ch_mult").EnumerateArray().Select(e => e.GetInt32())];
            int resolution = dd.GetProperty("resolution").GetInt32();
            var attentionResolutions = dd.TryGetProperty("attn_resolutions", out var a)
                ? a.EnumerateArray().Select(e => e.GetInt32()).ToHashSet() : [];
            var config = new AutoencoderConfig
            {
                Channels = dd.GetProperty("ch").GetInt32(),
                ChannelMultipliers = mult,
                ResBlocks = dd.GetProperty("num_res_blocks").GetInt32(),
                ZChannels = dd.GetProperty("z_channels").GetInt32(),
                EmbedDim = parameters.GetProperty("embed_dim").GetInt32(),
                InChannels = dd.TryGetProperty("in_channels", out var i) ? i.GetInt32() : 3,
                OutChannels = dd.TryGetProperty("out_ch", out var o) ? o.GetInt32() : 3,
                AttentionLevels = [.. Enumerable.Range(0, mult.Length).Where(l => attentionResolutions.Contains(resolution >> l))],
            };
            config.Validate(source);
            return config;
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{source}: not an autoencoder config ({e.Message})", e);
        }
    }

    /// <summary>Refuses shapes the reference cannot build, naming <paramref name="source"/> and the field.</summary>
    public void Validate(string source)
    {
        void Require(bool ok, string what)
        {
            if (!ok) throw new InvalidDataException($"{source}: autoencoder config: {what}");
        }
        Require(ChannelMultipliers.Length > 0, "ch_mult is empty");
        Require(ChannelMultipliers.All(m => m > 0), $"ch_mult [{string.Join(", ", ChannelMultipliers)}] has a non-positive entry");
        Require(Channels > 0, $"ch {Channels} is not positive");
        for (int level = 0; level < Levels; level++)
            Require(LevelChannels(level) % VaeLayers.Groups == 0,
                $"level {level} has {LevelChannels(level)} channels (ch {Channels} × ch_mult {ChannelMultipliers[level]}), not a multiple of GroupNorm's {VaeLayers.Groups} groups");
        Require(ResBlocks > 0, $"num_res_blocks {ResBlocks} is not positive");
        Require(ZChannels > 0 && EmbedDim > 0 && InChannels > 0 && OutChannels > 0,
            $"z_channels {ZChannels}, embed_dim {EmbedDim}, in_channels {InChannels}, out_ch {OutChannels} must be positive");
        Require(AttentionLevels.All(l => l >= 0 && l < Levels), $"attention levels [{string.Join(", ", AttentionLevels)}] outside 0..{Levels - 1}");
    }

    /// <summary>Value equality including the arrays (a record alone compares them by reference).</summary>
    public bool Equals(AutoencoderConfig? other) =>
        other is not null && Channels == other.Channels && ChannelMultipliers.AsSpan().SequenceEqual(other.ChannelMultipliers)
        && ResBlocks == other.ResBlocks && ZChannels == other.ZChannels && EmbedDim == other.EmbedDim
        && InChannels == other.InChannels && OutChannels == other.OutChannels
        && AttentionLevels.Order().SequenceEqual(other.AttentionLevels.Order());

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Channels); foreach (var m in ChannelMultipliers) h.Add(m);
        h.Add(ResBlocks); h.Add(ZChannels); h.Add(EmbedDim); h.Add(InChannels); h.Add(OutChannels);
        foreach (var l in AttentionLevels.Order()) h.Add(l);
        return h.ToHashCode();
    }

    /// <summary>One line in the reference's terms, for logs and <c>info</c>.</summary>
    public override string ToString() =>
        $"AutoencoderKL ch {Channels}, ch_mult [{string.Join(",", ChannelMultipliers)}], num_res_blocks {ResBlocks}, " +
        $"z_channels {ZChannels}, embed_dim {EmbedDim}, in {InChannels}, out {OutChannels}" +
        (AttentionLevels.Length > 0 ? $", attention at levels [{string.Join(",", AttentionLevels)}]" : "") +
        $" (downsample ×{DownsampleFactor})";
}
