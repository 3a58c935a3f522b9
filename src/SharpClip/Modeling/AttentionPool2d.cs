using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Modeling;

/// <summary>
/// The ModifiedResNet's head, replacing global average pooling: the mean of the spatial feature vectors is prepended
/// as a query token, positional embeddings are added, and one multi-head QKV attention of that token over all
/// tokens (itself included) gives the image embedding, projected by <c>c_proj</c>.
/// </summary>
public sealed class AttentionPool2d : ScopedModule
{
    Parameter positional_embedding;
    readonly Linear k_proj;
    readonly Linear q_proj;
    readonly Linear v_proj;
    readonly Linear c_proj;
    readonly int _heads;

    /// <param name="grid">Side of the incoming feature map.</param>
    /// <param name="width">Channels of the feature map (32× the ResNet width).</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="outputDim">Embedding size after <c>c_proj</c>.</param>
    public AttentionPool2d(int grid, int width, int heads, int outputDim) : base(nameof(AttentionPool2d))
    {
        if (heads <= 0 || width % heads != 0) throw new ArgumentException($"width {width} does not divide into {heads} heads");
        _heads = heads;
        positional_embedding = Layers.Parameter([grid * grid + 1, width], () =>
        {
            using Scalar sqrtWidth = Math.Sqrt(width);   // held for the op (see KeptScalars)
            return torch.randn(grid * grid + 1, width).div_(sqrtWidth);
        });
        k_proj = Layers.Linear(width, width);
        q_proj = Layers.Linear(width, width);
        v_proj = Layers.Linear(width, width);
        c_proj = Layers.Linear(width, outputDim);
        RegisterComponents();
    }

    internal IEnumerable<Linear> Projections => [q_proj, k_proj, v_proj, c_proj];

    internal int InFeatures => (int)c_proj.in_features;

    /// <param name="x">[batch, width, grid, grid]</param>
    /// <returns>[batch, output_dim]</returns>
    protected override Tensor Compute(Tensor x)
    {
        var tokens = x.flatten(2).transpose(1, 2);                                   // [batch, grid², width]
        tokens = torch.cat([tokens.mean([1], keepdim: true), tokens], dim: 1);       // [batch, grid²+1, width]
        tokens = tokens.Plus(positional_embedding.to(tokens.dtype));
        var q = AttentionHeads.Split(q_proj.forward(tokens.narrow(1, 0, 1)), _heads); // [batch, heads, 1, head_width]: the mean token is the only query
        var k = AttentionHeads.Split(k_proj.forward(tokens), _heads);                 // [batch, heads, grid²+1, head_width]
        var v = AttentionHeads.Split(v_proj.forward(tokens), _heads);
        var pooled = AttentionHeads.Merge(F.scaled_dot_product_attention(q, k, v)).select(1, 0); // [batch, width]
        return c_proj.forward(pooled);                                               // [batch, output_dim]
    }
}
