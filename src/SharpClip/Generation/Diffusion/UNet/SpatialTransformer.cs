using SharpClip.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.UNet;

/// <summary>
/// One transformer layer over image tokens (the reference's <c>BasicTransformerBlock</c>): self-attention, then
/// cross-attention to the text, then the gated feed-forward, each pre-LayerNorm and residual.
/// </summary>
public sealed class BasicTransformerBlock : nn.Module<Tensor, Tensor, Tensor>
{
    readonly CrossAttention attn1;
    readonly FeedForward ff;
    readonly CrossAttention attn2;
    readonly LayerNorm norm1;
    readonly LayerNorm norm2;
    readonly LayerNorm norm3;

    public BasicTransformerBlock(int dim, int heads, int headDim, int contextDim) : base(nameof(BasicTransformerBlock))
    {
        attn1 = new CrossAttention(dim, dim, heads, headDim);
        ff = new FeedForward(dim);
        attn2 = new CrossAttention(dim, contextDim, heads, headDim);
        norm1 = nn.LayerNorm(dim);
        norm2 = nn.LayerNorm(dim);
        norm3 = nn.LayerNorm(dim);
        RegisterComponents();
    }

    /// <param name="x">[batch, tokens, dim]</param>
    /// <param name="context">[batch, context_tokens, context_dim]</param>
    /// <returns>[batch, tokens, dim]</returns>
    public override Tensor forward(Tensor x, Tensor context)
    {
        using var scope = torch.NewDisposeScope();
        var h = norm1.forward(x);
        x = attn1.forward(h, h).Plus(x);
        x = attn2.forward(norm2.forward(x), context).Plus(x);
        x = ff.forward(norm3.forward(x)).Plus(x);
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Attention over an image's positions, conditioned on the text: GroupNorm (eps 1e-6), <c>proj_in</c>, the image as a
/// sequence of <c>height·width</c> tokens (row-major) through <see cref="BasicTransformerBlock"/>s, <c>proj_out</c>,
/// and a residual around it all. SD v1 projects with 1×1 convolutions on the image; SD v2 with Linear layers on the
/// tokens (the constructor's <c>linearProjection</c>, which the loader reads off the weight's rank).
/// </summary>
public sealed class SpatialTransformer : nn.Module<Tensor, Tensor, Tensor>
{
    readonly GroupNorm norm;
    readonly nn.Module<Tensor, Tensor> proj_in;
    readonly ModuleList<BasicTransformerBlock> transformer_blocks;
    readonly nn.Module<Tensor, Tensor> proj_out;
    readonly bool _linear;

    /// <param name="channels">Channels of the image.</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="headDim">Width of each head; heads × headDim is the transformer's width.</param>
    /// <param name="depth">Number of transformer blocks.</param>
    /// <param name="contextDim">Width of the text states.</param>
    /// <param name="linearProjection">Linear <c>proj_in</c>/<c>proj_out</c> on tokens (SD v2) instead of 1×1 convs.</param>
    public SpatialTransformer(int channels, int heads, int headDim, int depth, int contextDim, bool linearProjection)
        : base(nameof(SpatialTransformer))
    {
        int inner = heads * headDim;
        norm = UNetNorm.Transformer(channels);
        proj_in = linearProjection ? Layers.Linear(channels, inner) : Layers.Conv2d(channels, inner, 1);
        transformer_blocks = new ModuleList<BasicTransformerBlock>(
            Enumerable.Range(0, depth).Select(_ => new BasicTransformerBlock(inner, heads, headDim, contextDim)).ToArray());
        proj_out = linearProjection ? Layers.Linear(inner, channels) : Layers.Conv2d(inner, channels, 1);
        _linear = linearProjection;
        RegisterComponents();
    }

    /// <param name="x">[batch, channels, height, width]</param>
    /// <param name="context">[batch, context_tokens, context_dim]</param>
    /// <returns>[batch, channels, height, width]</returns>
    public override Tensor forward(Tensor x, Tensor context)
    {
        using var scope = torch.NewDisposeScope();
        long batch = x.shape[0], height = x.shape[2], width = x.shape[3];
        var h = norm.forward(x);
        if (!_linear) h = proj_in.forward(h);                      // [batch, inner, height, width]
        h = h.flatten(2).transpose(1, 2);                          // [batch, height·width, inner or channels]
        if (_linear) h = proj_in.forward(h);                       // [batch, height·width, inner]
        foreach (var block in transformer_blocks) h = block.forward(h, context);
        if (_linear) h = proj_out.forward(h);                      // [batch, height·width, channels]
        h = h.transpose(1, 2).reshape(batch, -1, height, width);   // [batch, inner or channels, height, width]
        if (!_linear) h = proj_out.forward(h);                     // [batch, channels, height, width]
        return h.Plus(x).MoveToOuterDisposeScope();
    }
}
