using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// The ViT image tower: non-overlapping patches embedded by a bias-free convolution, a learned class token prepended,
/// learned positional embeddings, pre-LayerNorm (<c>ln_pre</c>), the residual blocks, LayerNorm of the class token
/// (<c>ln_post</c>) and a linear projection (<c>proj</c>, no bias) into the joint embedding space.
/// </summary>
public sealed class VisionTransformer : ScopedModule
{
    // Parameter fields are not readonly: Module.to() swaps them for converted copies through reflection.
    readonly AlignedConv2d conv1;
    Parameter class_embedding;
    Parameter positional_embedding;
    readonly LayerNorm ln_pre;
    readonly TransformerStack transformer;
    readonly LayerNorm ln_post;
    Parameter proj;

    public VisionTransformer(ClipConfig config) : base(nameof(VisionTransformer))
    {
        int width = config.VisionWidth, patch = config.VisionPatchSize
            ?? throw new ArgumentException("a VisionTransformer needs VisionPatchSize", nameof(config));
        int grid = config.VisionGrid;
        using Scalar scale = Math.Pow(width, -0.5);   // held for the ops (see KeptScalars)
        conv1 = new AlignedConv2d(3, width, kernelSize: patch, stride: patch, bias: false);
        class_embedding = Layers.Parameter([width], () => torch.randn(width).mul_(scale));
        positional_embedding = Layers.Parameter([grid * grid + 1, width], () => torch.randn(grid * grid + 1, width).mul_(scale));
        ln_pre = nn.LayerNorm(width);
        transformer = new TransformerStack(width, config.VisionLayers[0], config.VisionHeads, config.VisionMlpWidth,
            config.Activation, causal: false);
        ln_post = nn.LayerNorm(width);
        proj = Layers.Parameter([width, config.EmbedDim], () => torch.randn(width, config.EmbedDim).mul_(scale));
        RegisterComponents();
    }

    /// <param name="pixels">[batch, 3, resolution, resolution], already normalised</param>
    /// <returns>[batch, embed_dim]</returns>
    protected override Tensor Compute(Tensor pixels)
    {
        var x = conv1.forward(pixels);                                   // [batch, width, grid, grid]
        x = x.flatten(2).transpose(1, 2);                                // [batch, grid², width]
        var cls = class_embedding.to(x.dtype).expand(x.shape[0], 1, -1); // [batch, 1, width]
        x = torch.cat([cls, x], dim: 1);                                 // [batch, grid²+1, width]
        x = x.Plus(positional_embedding.to(x.dtype));
        x = ln_pre.forward(x);
        x = transformer.forward(x);
        x = ln_post.forward(x.select(1, 0));                             // [batch, width]: the class token
        return x.matmul(proj);                                           // [batch, embed_dim]
    }
}
