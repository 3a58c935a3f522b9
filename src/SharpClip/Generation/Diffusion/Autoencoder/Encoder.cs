using SharpClip.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Autoencoder;

/// <summary>
/// Image → moments of the latent distribution: conv_in, then per level <c>num_res_blocks</c> ResnetBlocks (each
/// followed by attention on attention levels) and a Downsample on every level but the last, the mid block, then
/// norm_out, swish and conv_out to 2·z_channels (mean and log-variance).
/// </summary>
public sealed class Encoder : ScopedModule
{
    readonly AlignedConv2d conv_in;
    readonly ModuleList<EncoderLevel> down;
    readonly MidBlock mid;
    readonly GroupNorm norm_out;
    readonly AlignedConv2d conv_out;

    public Encoder(AutoencoderConfig config) : base(nameof(Encoder))
    {
        conv_in = new AlignedConv2d(config.InChannels, config.Channels, kernelSize: 3, padding: 1);
        down = new ModuleList<EncoderLevel>();
        int channels = config.Channels;
        for (int level = 0; level < config.Levels; level++)
        {
            down.Add(new EncoderLevel(channels, config.LevelChannels(level), config.ResBlocks,
                attention: config.AttentionLevels.Contains(level), downsample: level != config.Levels - 1));
            channels = config.LevelChannels(level);
        }
        mid = new MidBlock(channels);
        norm_out = VaeLayers.Normalize(channels);
        conv_out = new AlignedConv2d(channels, 2L * config.ZChannels, kernelSize: 3, padding: 1);
        RegisterComponents();
    }

    /// <param name="image">[batch, in_channels, h, w]</param>
    /// <returns>[batch, 2·z_channels, h/f, w/f] with f = 2^(levels−1)</returns>
    protected override Tensor Compute(Tensor image)
    {
        var h = conv_in.forward(image);
        foreach (var level in down) h = level.forward(h);
        h = mid.forward(h);
        return conv_out.forward(VaeLayers.Swish(norm_out.forward(h)));
    }
}

/// <summary>One resolution level of the encoder (<c>down.{i}</c>): <c>block.{j}</c>, <c>attn.{j}</c>, <c>downsample</c>.</summary>
public sealed class EncoderLevel : ScopedModule
{
    readonly ModuleList<ResnetBlock> block;
    readonly ModuleList<AttnBlock> attn;
    readonly Downsample? downsample;

    public EncoderLevel(int inChannels, int outChannels, int blocks, bool attention, bool downsample) : base(nameof(EncoderLevel))
    {
        block = new ModuleList<ResnetBlock>();
        attn = new ModuleList<AttnBlock>();
        for (int j = 0; j < blocks; j++)
        {
            block.Add(new ResnetBlock(j == 0 ? inChannels : outChannels, outChannels));
            if (attention) attn.Add(new AttnBlock(outChannels));
        }
        if (downsample) this.downsample = new Downsample(outChannels);
        RegisterComponents();
    }

    /// <param name="x">[batch, in_channels, h, w]</param>
    /// <returns>[batch, out_channels, h/2, w/2], or h × w on the last level</returns>
    protected override Tensor Compute(Tensor x)
    {
        var h = x;
        for (int j = 0; j < block.Count; j++)
        {
            h = block[j].forward(h);
            if (attn.Count > 0) h = attn[j].forward(h);
        }
        return downsample is null ? h : downsample.forward(h);
    }
}
