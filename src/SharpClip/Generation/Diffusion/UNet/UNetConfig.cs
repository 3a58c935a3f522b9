using System.Text.Json;
using SharpClip.Files;

namespace SharpClip.Generation.Diffusion.UNet;

/// <summary>
/// The shape of a Stable Diffusion U-Net, with the reference's argument names (<c>unet_config.params</c> of
/// v1-inference.yaml). Everything but the head count can be read off the weights (<see cref="UNetWeightShapes"/>);
/// heads are given as <see cref="NumHeads"/> (fixed per block, head width varies: SD v1) or
/// <see cref="NumHeadChannels"/> (fixed head width: SD v2), the other being -1.
/// </summary>
public sealed record UNetConfig
{
    public int InChannels { get; init; } = 4;
    public int OutChannels { get; init; } = 4;
    public int ModelChannels { get; init; } = 320;
    /// <summary>Channel multiplier per level (one level per resolution).</summary>
    public IReadOnlyList<int> ChannelMult { get; init; } = [1, 2, 4, 4];
    public int NumResBlocks { get; init; } = 2;
    /// <summary>Downsampling factors (1, 2, 4, ...) at which blocks get a spatial transformer.</summary>
    public IReadOnlyList<int> AttentionResolutions { get; init; } = [4, 2, 1];
    /// <summary>Heads per spatial transformer, or -1 when <see cref="NumHeadChannels"/> is set. SD v1: 8.</summary>
    public int NumHeads { get; init; } = 8;
    /// <summary>Width of each head, or -1 when <see cref="NumHeads"/> is set. SD v2: 64.</summary>
    public int NumHeadChannels { get; init; } = -1;
    public int TransformerDepth { get; init; } = 1;
    /// <summary>Width of the text states the cross-attention reads (768 for SD v1, 1024 for SD v2).</summary>
    public int ContextDim { get; init; } = 768;
    /// <summary>Linear <c>proj_in</c>/<c>proj_out</c> (SD v2) instead of 1×1 convolutions (SD v1).</summary>
    public bool UseLinearInTransformer { get; init; }

    /// <summary>Width of the timestep embedding after the time_embed MLP (4 × model_channels).</summary>
    public int TimeEmbedDim => 4 * ModelChannels;

    /// <summary>Heads and head width of a spatial transformer on <paramref name="channels"/> channels.</summary>
    public (int Heads, int HeadDim) HeadsAt(int channels) =>
        NumHeadChannels == -1 ? (NumHeads, channels / NumHeads) : (channels / NumHeadChannels, NumHeadChannels);

    /// <summary>Checks the numbers fit together; returns this config.</summary>
    public UNetConfig Validate()
    {
        void Require(bool ok, string what) { if (!ok) throw new ArgumentException($"U-Net config: {what}"); }
        Require(InChannels > 0 && OutChannels > 0, "in_channels and out_channels must be positive");
        Require(ModelChannels > 0 && ModelChannels % 32 == 0, $"model_channels {ModelChannels} must be a positive multiple of 32 (GroupNorm has 32 groups)");
        Require(ChannelMult.Count > 0 && ChannelMult.All(m => m > 0), "channel_mult must be non-empty and positive");
        Require(NumResBlocks > 0, "num_res_blocks must be positive");
        Require(TransformerDepth > 0 && ContextDim > 0, "transformer_depth and context_dim must be positive");
        Require((NumHeads == -1) != (NumHeadChannels == -1), $"exactly one of num_heads ({NumHeads}) and num_head_channels ({NumHeadChannels}) must be -1");
        Require(NumHeads == -1 || NumHeads > 0, "num_heads must be positive or -1");
        Require(NumHeadChannels == -1 || NumHeadChannels > 0, "num_head_channels must be positive or -1");
        foreach (int mult in ChannelMult.Distinct())
        {
            int ch = mult * ModelChannels;
            int divisor = NumHeadChannels == -1 ? NumHeads : NumHeadChannels;
            Require(ch % divisor == 0, $"{ch} channels do not divide into {(NumHeadChannels == -1 ? $"{NumHeads} heads" : $"heads of {NumHeadChannels}")}");
        }
        return this;
    }

    /// <summary>
    /// Reads the reference's <c>UNetModel</c> arguments from JSON: the <c>params</c> object itself (snake_case names
    /// of v1-inference.yaml's <c>unet_config.params</c>), or a whole config holding it under
    /// <c>model.params.unet_config.params</c>. Missing fields keep SD v1's values.
    /// </summary>
    public static UNetConfig FromJson(JsonElement json, string source)
    {
        if (json.TryGetProperty("model", out var model) && model.TryGetProperty("params", out var mp)
            && mp.TryGetProperty("unet_config", out var uc) && uc.TryGetProperty("params", out var up))
            json = up;
        if (json.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{source}: the U-Net config is not a JSON object");
        try
        {
            var c = new UNetConfig();
            int Int(string name, int fallback) => JsonFiles.IntOr(json, name, fallback);
            int[] Ints(string name, IReadOnlyList<int> fallback) =>
                json.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? [.. v.EnumerateArray().Select(e => e.GetInt32())] : [.. fallback];
            var depth = json.TryGetProperty("transformer_depth", out var d) && d.ValueKind == JsonValueKind.Array
                ? d.EnumerateArray().Select(e => e.GetInt32()).Distinct().ToArray() : [Int("transformer_depth", c.TransformerDepth)];
            if (depth.Length != 1) throw new InvalidDataException($"{source}: transformer_depth varies per level ({d}); only one depth is supported");
            return new UNetConfig
            {
                InChannels = Int("in_channels", c.InChannels),
                OutChannels = Int("out_channels", c.OutChannels),
                ModelChannels = Int("model_channels", c.ModelChannels),
                ChannelMult = Ints("channel_mult", c.ChannelMult),
                NumResBlocks = Int("num_res_blocks", c.NumResBlocks),
                AttentionResolutions = Ints("attention_resolutions", c.AttentionResolutions),
                NumHeads = Int("num_heads", c.NumHeads),
                NumHeadChannels = Int("num_head_channels", c.NumHeadChannels),
                TransformerDepth = depth[0],
                ContextDim = Int("context_dim", c.ContextDim),
                UseLinearInTransformer = json.TryGetProperty("use_linear_in_transformer", out var l) && l.ValueKind == JsonValueKind.True,
            }.Validate();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidDataException($"{source}: bad U-Net config: {e.Message}", e);
        }
    }

    /// <summary>Same architecture (every field equal, lists element-wise).</summary>
    public bool SameAs(UNetConfig other) =>
        this with { ChannelMult = Array.Empty<int>(), AttentionResolutions = Array.Empty<int>() } == other with { ChannelMult = Array.Empty<int>(), AttentionResolutions = Array.Empty<int>() }
        && ChannelMult.SequenceEqual(other.ChannelMult) && AttentionResolutions.Order().SequenceEqual(other.AttentionResolutions.Order());

    public override string ToString() =>
        $"model_channels {ModelChannels}, channel_mult [{string.Join(",", ChannelMult)}], num_res_blocks {NumResBlocks}, " +
        $"attention at [{string.Join(",", AttentionResolutions)}], {(NumHeadChannels == -1 ? $"{NumHeads} heads" : $"heads of {NumHeadChannels}")}, " +
        $"depth {TransformerDepth}, context {ContextDim}, {(UseLinearInTransformer ? "linear" : "conv")} proj";
}
