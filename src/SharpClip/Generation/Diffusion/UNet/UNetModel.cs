using SharpClip.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.UNet;

/// <summary>
/// Stable Diffusion's noise predictor (openaimodel's <c>UNetModel</c> with spatial transformers): given a noisy
/// latent, its timestep and the text states, it predicts the noise (ε) that was added. An encoder path of ResBlocks
/// (with cross-attention at the configured resolutions) and downsamples, a middle block, and a decoder path that
/// concatenates each encoder output back in (<c>cat([h, skip])</c>, skips taken last-in first-out) and upsamples.
/// Field names are the checkpoint's (<c>time_embed.0/2</c>, <c>input_blocks</c>, <c>middle_block</c>,
/// <c>output_blocks</c>, <c>out.0/2</c>), so the keys under <c>model.diffusion_model.</c> load directly.
/// </summary>
public sealed class UNetModel : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    readonly Sequential time_embed;
    readonly ModuleList<TimestepEmbedSequential> input_blocks;
    readonly TimestepEmbedSequential middle_block;
    readonly ModuleList<TimestepEmbedSequential> output_blocks;
    readonly Sequential @out;

    /// <summary>A U-Net of the given shape with default (random) initialisation; load weights into it.</summary>
    public UNetModel(UNetConfig config) : base(nameof(UNetModel))
    {
        Config = config.Validate();
        int mc = config.ModelChannels, embDim = config.TimeEmbedDim;
        time_embed = nn.Sequential(Layers.Linear(mc, embDim), nn.SiLU(), Layers.Linear(embDim, embDim));

        // The latent's few channels (4) do not fill oneDNN's register block: AlignedConv2d pads them (exact; see its remarks),
        // which training needs for correct weight gradients. Same keys and initialisation as nn.Conv2d.
        var inputs = new List<TimestepEmbedSequential> { new(new AlignedConv2d(config.InChannels, mc, 3, padding: 1)) };
        var skipChannels = new Stack<int>([mc]);
        int ch = mc, ds = 1;
        for (int level = 0; level < config.ChannelMult.Count; level++)
        {
            for (int r = 0; r < config.NumResBlocks; r++)
            {
                int outCh = config.ChannelMult[level] * mc;
                var layers = new List<nn.Module> { new ResBlock(ch, embDim, outCh) };
                ch = outCh;
                if (config.AttentionResolutions.Contains(ds)) layers.Add(Transformer(ch));
                inputs.Add(new TimestepEmbedSequential([.. layers]));
                skipChannels.Push(ch);
            }
            if (level != config.ChannelMult.Count - 1)
            {
                inputs.Add(new TimestepEmbedSequential(new Downsample(ch, ch)));
                skipChannels.Push(ch);
                ds *= 2;
            }
        }
        input_blocks = new ModuleList<TimestepEmbedSequential>([.. inputs]);

        middle_block = new TimestepEmbedSequential(new ResBlock(ch, embDim, ch), Transformer(ch), new ResBlock(ch, embDim, ch));

        var outputs = new List<TimestepEmbedSequential>();
        for (int level = config.ChannelMult.Count - 1; level >= 0; level--)
        {
            for (int i = 0; i <= config.NumResBlocks; i++)
            {
                int outCh = config.ChannelMult[level] * mc;
                var layers = new List<nn.Module> { new ResBlock(ch + skipChannels.Pop(), embDim, outCh) };
                ch = outCh;
                if (config.AttentionResolutions.Contains(ds)) layers.Add(Transformer(ch));
                if (level > 0 && i == config.NumResBlocks)
                {
                    layers.Add(new Upsample(ch, ch));
                    ds /= 2;
                }
                outputs.Add(new TimestepEmbedSequential([.. layers]));
            }
        }
        output_blocks = new ModuleList<TimestepEmbedSequential>([.. outputs]);

        @out = nn.Sequential(UNetNorm.Group(ch), nn.SiLU(), new AlignedConv2d(mc, config.OutChannels, 3, padding: 1));
        RegisterComponents();
        eval();
    }

    /// <summary>The architecture this model was built with.</summary>
    public UNetConfig Config { get; }

    /// <summary>Number of parameters.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    SpatialTransformer Transformer(int channels)
    {
        var (heads, headDim) = Config.HeadsAt(channels);
        return new SpatialTransformer(channels, heads, headDim, Config.TransformerDepth, Config.ContextDim, Config.UseLinearInTransformer);
    }

    /// <summary>The timestep conditioning every ResBlock receives: the sinusoidal embedding through the time_embed MLP.</summary>
    /// <param name="timesteps">[batch] DDPM timesteps.</param>
    /// <returns>[batch, time_embed_dim]</returns>
    public Tensor TimeEmbedding(Tensor timesteps)
    {
        using var scope = torch.NewDisposeScope();
        var sinusoid = TimestepEmbedding.Sinusoidal(timesteps, Config.ModelChannels).to(DType); // [batch, model_channels]
        return time_embed.forward(sinusoid).MoveToOuterDisposeScope();
    }

    /// <summary>Element type of the weights (and of the computation).</summary>
    public ScalarType DType => parameters().First().dtype;

    /// <summary>Predicts the noise in <paramref name="x"/>.</summary>
    /// <param name="x">[batch, in_channels, height, width] noisy latents; height and width divisible by 2^(levels-1).</param>
    /// <param name="timesteps">[batch] DDPM timesteps (int64), one per sample.</param>
    /// <param name="context">[batch, context_tokens, context_dim] text states.</param>
    /// <returns>[batch, out_channels, height, width]</returns>
    public override Tensor forward(Tensor x, Tensor timesteps, Tensor context)
    {
        CheckInputs(x, timesteps, context);
        using var scope = torch.NewDisposeScope();
        var emb = TimeEmbedding(timesteps);                          // [batch, time_embed_dim]
        var skips = new Stack<Tensor>();
        var h = x;
        foreach (var block in input_blocks)
        {
            h = block.Forward(h, emb, context);
            skips.Push(h);                                           // kept for the decoder path
        }
        h = middle_block.Forward(h, emb, context);
        foreach (var block in output_blocks)
        {
            var skip = skips.Pop();
            var joined = torch.cat([h, skip], 1);                    // [batch, ch + skip_ch, height, width]
            h.Dispose();
            skip.Dispose();
            h = block.Forward(joined, emb, context);
            joined.Dispose();
        }
        return @out.forward(h).MoveToOuterDisposeScope();
    }

    void CheckInputs(Tensor x, Tensor timesteps, Tensor context)
    {
        long levels = 1L << (Config.ChannelMult.Count - 1);
        if (x.dim() != 4 || x.shape[1] != Config.InChannels)
            throw new ArgumentException($"latents must be [batch, {Config.InChannels}, height, width]; got [{string.Join(",", x.shape)}]", nameof(x));
        if (x.shape[2] % levels != 0 || x.shape[3] % levels != 0)
            throw new ArgumentException($"latent height and width must be multiples of {levels} for {Config.ChannelMult.Count} levels; got {x.shape[2]}×{x.shape[3]}", nameof(x));
        if (timesteps.dim() != 1 || timesteps.shape[0] != x.shape[0])
            throw new ArgumentException($"timesteps must be [{x.shape[0]}]; got [{string.Join(",", timesteps.shape)}]", nameof(timesteps));
        if (context.dim() != 3 || context.shape[0] != x.shape[0] || context.shape[2] != Config.ContextDim)
            throw new ArgumentException($"context must be [{x.shape[0]}, tokens, {Config.ContextDim}]; got [{string.Join(",", context.shape)}]", nameof(context));
    }
}
