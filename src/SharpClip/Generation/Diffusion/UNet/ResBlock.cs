using SharpClip.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.UNet;

/// <summary>
/// The U-Net's residual block (openaimodel's <c>ResBlock</c>, no scale-shift norm, no up/down variant):
/// <c>skip(x) + out_layers(in_layers(x) + emb_layers(emb))</c>. The timestep embedding enters as a per-channel bias
/// between the two convolutions, which is how every block learns what noise level it is denoising.
/// Keys: <c>in_layers.0/2</c>, <c>emb_layers.1</c>, <c>out_layers.0/3</c>, and <c>skip_connection</c> (a 1×1 conv)
/// only when the channel count changes.
/// </summary>
public sealed class ResBlock : nn.Module<Tensor, Tensor, Tensor>
{
    readonly Sequential in_layers;
    readonly Sequential emb_layers;
    readonly Sequential out_layers;
    readonly nn.Module<Tensor, Tensor> skip_connection;

    /// <param name="channels">Input channels.</param>
    /// <param name="embeddingChannels">Width of the timestep embedding (4 × model_channels).</param>
    /// <param name="outChannels">Output channels.</param>
    public ResBlock(int channels, int embeddingChannels, int outChannels) : base(nameof(ResBlock))
    {
        in_layers = nn.Sequential(UNetNorm.Group(channels), nn.SiLU(), Layers.Conv2d(channels, outChannels, 3, padding: 1));
        emb_layers = nn.Sequential(nn.SiLU(), Layers.Linear(embeddingChannels, outChannels));
        out_layers = nn.Sequential(UNetNorm.Group(outChannels), nn.SiLU(), nn.Dropout(0.0),
            Layers.Conv2d(outChannels, outChannels, 3, padding: 1));
        skip_connection = outChannels == channels ? nn.Identity() : Layers.Conv2d(channels, outChannels, 1);
        OutChannels = outChannels;
        RegisterComponents();
    }

    /// <summary>Channels of the output.</summary>
    public int OutChannels { get; }

    /// <param name="x">[batch, channels, height, width]</param>
    /// <param name="emb">[batch, embedding_channels] (after the time_embed MLP)</param>
    /// <returns>[batch, out_channels, height, width]</returns>
    public override Tensor forward(Tensor x, Tensor emb)
    {
        using var scope = torch.NewDisposeScope();
        var h = in_layers.forward(x);                                   // [batch, out, height, width]
        var bias = emb_layers.forward(emb).unsqueeze(-1).unsqueeze(-1); // [batch, out, 1, 1]
        h = out_layers.forward(h.Plus(bias));
        return skip_connection.forward(x).Plus(h).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The U-Net's normalisations: both use 32 groups but different epsilons in the reference; weight 1, bias 0 from
/// <see cref="GroupNorms"/> (TorchSharp's own GroupNorm leaves them uninitialised).
/// </summary>
internal static class UNetNorm
{
    /// <summary><c>GroupNorm32</c> of ResBlocks and <c>out.0</c>: eps 1e-5.</summary>
    public static GroupNorm Group(int channels) => GroupNorms.Create(32, channels, eps: 1e-5);

    /// <summary>The SpatialTransformer's <c>Normalize</c>: eps 1e-6.</summary>
    public static GroupNorm Transformer(int channels) => GroupNorms.Create(32, channels, eps: 1e-6);
}
