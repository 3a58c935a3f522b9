using SharpClip.Generation.Diffusion.Autoencoder;
using SharpClip.Generation.Diffusion.UNet;

namespace SharpClip.Generation.Diffusion.Diffusers;

/// <summary>
/// The correspondence between a diffusers folder's tensor names and the single-file (ldm) names, built from the
/// architecture rather than from string replacement, so it runs both ways: reading a folder (diffusers → ldm) and
/// writing one (<c>sharpclip convert</c>, ldm → diffusers), and a key missing in a folder can be named as the folder
/// would spell it. The block layout is the one diffusers' <c>convert_from_ckpt.py</c> and
/// <c>convert_diffusers_to_original_stable_diffusion.py</c> encode: <c>down_blocks.i.resnets.j</c> is
/// <c>input_blocks.(1 + i·(n+1) + j).0</c>, <c>up_blocks.i</c> runs from the deepest level, ResBlock parts are
/// renamed (<c>norm1</c> ↔ <c>in_layers.0</c>, ...), transformer blocks keep their names, and the VAE's mid-block
/// attention is Linear in diffusers where ldm has 1×1 convolutions.
/// </summary>
public sealed class DiffusersNaming
{
    /// <summary>How the part of a key after a block's prefix is renamed.</summary>
    enum Inner { Same, UNetResBlock, VaeResBlock, VaeAttention }

    static readonly (string Ldm, string Diffusers)[] UNetResBlockParts =
    [
        ("in_layers.0.", "norm1."), ("in_layers.2.", "conv1."), ("emb_layers.1.", "time_emb_proj."),
        ("out_layers.0.", "norm2."), ("out_layers.3.", "conv2."), ("skip_connection.", "conv_shortcut."),
    ];

    static readonly (string Ldm, string Diffusers)[] VaeResBlockParts =
    [
        ("norm1.", "norm1."), ("conv1.", "conv1."), ("norm2.", "norm2."), ("conv2.", "conv2."), ("nin_shortcut.", "conv_shortcut."),
    ];

    // diffusers ≥ 0.14 names the VAE attention like any attention; older folders use query/key/value/proj_attn.
    static readonly (string Ldm, string Diffusers)[] VaeAttentionParts =
        [("norm.", "group_norm."), ("q.", "to_q."), ("k.", "to_k."), ("v.", "to_v."), ("proj_out.", "to_out.0.")];
    static readonly (string Ldm, string Diffusers)[] LegacyVaeAttentionParts =
        [("norm.", "group_norm."), ("q.", "query."), ("k.", "key."), ("v.", "value."), ("proj_out.", "proj_attn.")];

    readonly List<(string Ldm, string Diffusers, Inner Inner)> _blocks = [];
    readonly bool _legacyVaeAttention;

    DiffusersNaming(bool legacyVaeAttention) => _legacyVaeAttention = legacyVaeAttention;

    /// <summary>The U-Net's names for an architecture (keys without <c>model.diffusion_model.</c> / the folder's own).</summary>
    public static DiffusersNaming ForUNet(UNetConfig c)
    {
        var n = new DiffusersNaming(false);
        n.Add("time_embed.0.", "time_embedding.linear_1.");
        n.Add("time_embed.2.", "time_embedding.linear_2.");
        n.Add("input_blocks.0.0.", "conv_in.");
        n.Add("out.0.", "conv_norm_out.");
        n.Add("out.2.", "conv_out.");
        int levels = c.ChannelMult.Count, per = c.NumResBlocks;
        bool Attention(int level) => c.AttentionResolutions.Contains(1 << level);
        for (int i = 0; i < levels; i++)
        {
            for (int j = 0; j < per; j++)
            {
                int k = 1 + i * (per + 1) + j;
                n.Add($"input_blocks.{k}.0.", $"down_blocks.{i}.resnets.{j}.", Inner.UNetResBlock);
                if (Attention(i)) n.Add($"input_blocks.{k}.1.", $"down_blocks.{i}.attentions.{j}.");
            }
            if (i < levels - 1) n.Add($"input_blocks.{1 + i * (per + 1) + per}.0.op.", $"down_blocks.{i}.downsamplers.0.conv.");
        }
        n.Add("middle_block.0.", "mid_block.resnets.0.", Inner.UNetResBlock);
        n.Add("middle_block.1.", "mid_block.attentions.0.");
        n.Add("middle_block.2.", "mid_block.resnets.1.", Inner.UNetResBlock);
        for (int i = 0; i < levels; i++)
        {
            bool attention = Attention(levels - 1 - i);
            for (int j = 0; j <= per; j++)
            {
                int k = i * (per + 1) + j;
                n.Add($"output_blocks.{k}.0.", $"up_blocks.{i}.resnets.{j}.", Inner.UNetResBlock);
                if (attention) n.Add($"output_blocks.{k}.1.", $"up_blocks.{i}.attentions.{j}.");
            }
            if (i < levels - 1) n.Add($"output_blocks.{i * (per + 1) + per}.{(attention ? 2 : 1)}.conv.", $"up_blocks.{i}.upsamplers.0.conv.");
        }
        return n;
    }

    /// <summary>The KL autoencoder's names (keys without <c>first_stage_model.</c>).</summary>
    /// <param name="c">The autoencoder's architecture.</param>
    /// <param name="legacyAttention">The folder names the attention <c>query/key/value/proj_attn</c> (diffusers &lt; 0.14).</param>
    public static DiffusersNaming ForAutoencoder(AutoencoderConfig c, bool legacyAttention = false)
    {
        var n = new DiffusersNaming(legacyAttention);
        int levels = c.Levels;
        foreach (var side in new[] { "encoder", "decoder" })
        {
            n.Add($"{side}.conv_in.", $"{side}.conv_in.");
            n.Add($"{side}.conv_out.", $"{side}.conv_out.");
            n.Add($"{side}.norm_out.", $"{side}.conv_norm_out.");
            n.Add($"{side}.mid.block_1.", $"{side}.mid_block.resnets.0.", Inner.VaeResBlock);
            n.Add($"{side}.mid.attn_1.", $"{side}.mid_block.attentions.0.", Inner.VaeAttention);
            n.Add($"{side}.mid.block_2.", $"{side}.mid_block.resnets.1.", Inner.VaeResBlock);
        }
        for (int i = 0; i < levels; i++)
        {
            bool attention = c.AttentionLevels.Contains(i);
            for (int j = 0; j < c.ResBlocks; j++)
            {
                n.Add($"encoder.down.{i}.block.{j}.", $"encoder.down_blocks.{i}.resnets.{j}.", Inner.VaeResBlock);
                if (attention) n.Add($"encoder.down.{i}.attn.{j}.", $"encoder.down_blocks.{i}.attentions.{j}.", Inner.VaeAttention);
            }
            if (i < levels - 1) n.Add($"encoder.down.{i}.downsample.conv.", $"encoder.down_blocks.{i}.downsamplers.0.conv.");
            int level = levels - 1 - i;
            bool upAttention = c.AttentionLevels.Contains(level);
            for (int j = 0; j <= c.ResBlocks; j++)
            {
                n.Add($"decoder.up.{level}.block.{j}.", $"decoder.up_blocks.{i}.resnets.{j}.", Inner.VaeResBlock);
                if (upAttention) n.Add($"decoder.up.{level}.attn.{j}.", $"decoder.up_blocks.{i}.attentions.{j}.", Inner.VaeAttention);
            }
            if (i < levels - 1) n.Add($"decoder.up.{level}.upsample.conv.", $"decoder.up_blocks.{i}.upsamplers.0.conv.");
        }
        n.Add("quant_conv.", "quant_conv.");
        n.Add("post_quant_conv.", "post_quant_conv.");
        return n;
    }

    /// <summary>Whether an autoencoder's stored names are diffusers' older attention names.</summary>
    public static bool UsesLegacyVaeAttention(IEnumerable<string> diffusersKeys) =>
        diffusersKeys.Any(k => k.Contains(".attentions.0.query.", StringComparison.Ordinal) || k.Contains(".attentions.0.proj_attn.", StringComparison.Ordinal));

    void Add(string ldm, string diffusers, Inner inner = Inner.Same) => _blocks.Add((ldm, diffusers, inner));

    (string Ldm, string Diffusers)[] Parts(Inner inner) => inner switch
    {
        Inner.UNetResBlock => UNetResBlockParts,
        Inner.VaeResBlock => VaeResBlockParts,
        Inner.VaeAttention => _legacyVaeAttention ? LegacyVaeAttentionParts : VaeAttentionParts,
        _ => [],
    };

    /// <summary>The ldm name of a diffusers key; null when the architecture has no such tensor.</summary>
    public string? ToLdm(string diffusersKey) => Translate(diffusersKey, toLdm: true);

    /// <summary>The diffusers name of an ldm key; null when the architecture has no such tensor.</summary>
    public string? ToDiffusers(string ldmKey) => Translate(ldmKey, toLdm: false);

    /// <summary>
    /// Whether the ldm key is a VAE attention projection, a 1×1 convolution in ldm and a Linear in diffusers (the
    /// weight's trailing [1, 1] is dropped or added).
    /// </summary>
    public bool IsLinearInDiffusers(string ldmKey) => _blocks.Any(b => b.Inner == Inner.VaeAttention && ldmKey.StartsWith(b.Ldm, StringComparison.Ordinal)
        && ldmKey.EndsWith(".weight", StringComparison.Ordinal) && !ldmKey[b.Ldm.Length..].StartsWith("norm.", StringComparison.Ordinal));

    string? Translate(string key, bool toLdm)
    {
        // The longest matching block prefix wins ("input_blocks.1.0." before "input_blocks.1.").
        (string From, string To, Inner Inner)? best = null;
        foreach (var (ldm, diffusers, inner) in _blocks)
        {
            var (from, to) = toLdm ? (diffusers, ldm) : (ldm, diffusers);
            if (key.StartsWith(from, StringComparison.Ordinal) && (best is null || from.Length > best.Value.From.Length)) best = (from, to, inner);
        }
        if (best is not { } b) return null;
        var rest = key[b.From.Length..];
        if (b.Inner == Inner.Same) return b.To + rest;
        foreach (var (ldm, diffusers) in Parts(b.Inner))
        {
            var (from, to) = toLdm ? (diffusers, ldm) : (ldm, diffusers);
            if (rest.StartsWith(from, StringComparison.Ordinal)) return b.To + to + rest[from.Length..];
        }
        return null;
    }
}
