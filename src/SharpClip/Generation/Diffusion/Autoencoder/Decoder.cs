using SharpClip.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Autoencoder;

/// <summary>
/// Latent → image: conv_in from z_channels, the mid block, then the levels from the deepest up, each with
/// <c>num_res_blocks + 1</c> ResnetBlocks (and attention after each on attention levels) and an Upsample on every
/// level but level 0, then norm_out, swish and conv_out. <c>up.{i}</c> is indexed by level, so <c>up.{levels−1}</c>
/// runs first, as the reference's <c>self.up.insert(0, up)</c> arranges.
/// </summary>
public sealed class Decoder : ScopedModule
{
    readonly AlignedConv2d conv_in;
    readonly MidBlock mid;
    readonly ModuleList<DecoderLevel> up;
    readonly GroupNorm norm_out;
    readonly AlignedConv2d conv_out;

    public Decoder(AutoencoderConfig config) : base(nameof(Decoder))
    {
        int channels = config.LevelChannels(config.Levels - 1);
        conv_in = new AlignedConv2d(config.ZChannels, channels, kernelSize: 3, padding: 1);
        mid = new MidBlock(channels);
        var levels = new DecoderLevel[config.Levels];
        for (int level = config.Levels - 1; level >= 0; level--)
        {
            levels[level] = new DecoderLevel(channels, config.LevelChannels(level), config.ResBlocks + 1,
                attention: config.AttentionLevels.Contains(level), upsample: level != 0);
            channels = config.LevelChannels(level);
        }
        up = new ModuleList<DecoderLevel>(levels);
        norm_out = VaeLayers.Normalize(channels);
        conv_out = new AlignedConv2d(channels, config.OutChannels, kernelSize: 3, padding: 1);
        RegisterComponents();
    }

    /// <param name="z">[batch, z_channels, h, w]</param>
    /// <returns>[batch, out_ch, h·f, w·f] with f = 2^(levels−1)</returns>
    protected override Tensor Compute(Tensor z)
    {
        var h = mid.forward(conv_in.forward(z));
        for (int level = up.Count - 1; level >= 0; level--)
        {
            var next = up[level].forward(h);
            if (!torch.is_grad_enabled()) h.Dispose(); // each level's input is 4× smaller than its output; free it early
            h = next;
        }
        return conv_out.forward(VaeLayers.Swish(norm_out.forward(h)));
    }
}

/// <summary>One resolution level of the decoder (<c>up.{i}</c>): <c>block.{j}</c>, <c>attn.{j}</c>, <c>upsample</c>.</summary>
public sealed class DecoderLevel : ScopedModule
{
    readonly ModuleList<ResnetBlock> block;
    readonly ModuleList<AttnBlock> attn;
    readonly Upsample? upsample;

    public DecoderLevel(int inChannels, int outChannels, int blocks, bool attention, bool upsample) : base(nameof(DecoderLevel))
    {
        block = new ModuleList<ResnetBlock>();
        attn = new ModuleList<AttnBlock>();
        for (int j = 0; j < blocks; j++)
        {
            block.Add(new ResnetBlock(j == 0 ? inChannels : outChannels, outChannels));
            if (attention) attn.Add(new AttnBlock(outChannels));
        }
        if (upsample) this.upsample = new Upsample(outChannels);
        RegisterComponents();
    }

    /// <param name="x">[batch, in_channels, h, w]</param>
    /// <returns>[batch, out_channels, 2h, 2w], or h × w on level 0</returns>
    protected override Tensor Compute(Tensor x)
    {
        var h = x;
        for (int j = 0; j < block.Count; j++)
        {
            var next = block[j].forward(h);
            if (!ReferenceEquals(h, x) && !torch.is_grad_enabled()) h.Dispose();
            h = next;
            if (attn.Count > 0) h = attn[j].forward(h);
        }
        return upsample is null ? h : upsample.forward(h);
    }
}
