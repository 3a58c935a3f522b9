using SharpClip.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Generation.Diffusion.Autoencoder;

/// <summary>
/// Single-head self-attention over all positions of a feature map, with 1×1 convolutions for q, k, v and the output
/// projection, and a residual connection. One head of width C, so the scale is <c>C^-0.5</c> — exactly what the
/// fused attention applies for a head width of C.
/// </summary>
public sealed class AttnBlock : ScopedModule
{
    readonly GroupNorm norm;
    readonly AlignedConv2d q;
    readonly AlignedConv2d k;
    readonly AlignedConv2d v;
    readonly AlignedConv2d proj_out;

    public AttnBlock(int channels) : base(nameof(AttnBlock))
    {
        norm = VaeLayers.Normalize(channels);
        q = new AlignedConv2d(channels, channels, kernelSize: 1);
        k = new AlignedConv2d(channels, channels, kernelSize: 1);
        v = new AlignedConv2d(channels, channels, kernelSize: 1);
        proj_out = new AlignedConv2d(channels, channels, kernelSize: 1);
        RegisterComponents();
    }

    /// <param name="x">[batch, channels, h, w]</param>
    /// <returns>[batch, channels, h, w]</returns>
    protected override Tensor Compute(Tensor x)
    {
        long batch = x.shape[0], channels = x.shape[1], height = x.shape[2], width = x.shape[3];
        var normed = norm.forward(x);
        // [batch, channels, h, w] -> [batch, 1 head, h·w positions (row-major), channels]
        Tensor Tokens(AlignedConv2d projection) => projection.forward(normed).view(batch, 1, channels, height * width).transpose(2, 3);
        var attended = F.scaled_dot_product_attention(Tokens(q), Tokens(k), Tokens(v)); // [batch, 1, h·w, channels]
        var map = attended.transpose(2, 3).reshape(batch, channels, height, width);      // [batch, channels, h, w]
        return proj_out.forward(map).PlusInPlace(x);
    }
}
