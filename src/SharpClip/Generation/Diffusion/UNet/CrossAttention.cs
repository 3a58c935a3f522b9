using SharpClip.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Generation.Diffusion.UNet;

/// <summary>
/// Multi-head attention whose queries come from the image tokens and whose keys and values come from a context: the
/// text states (cross-attention, <c>attn2</c>) or the image tokens themselves (self-attention, <c>attn1</c>). The
/// projections have no bias except <c>to_out.0</c>, as in the reference; heads split the width head-major
/// (<c>'b n (h d)'</c>) and the core is libtorch's fused attention with scale <c>dim_head^-0.5</c>.
/// </summary>
public sealed class CrossAttention : nn.Module<Tensor, Tensor, Tensor>
{
    readonly Linear to_q;
    readonly Linear to_k;
    readonly Linear to_v;
    readonly Sequential to_out;

    /// <param name="queryDim">Width of the image tokens.</param>
    /// <param name="contextDim">Width of the context tokens (= queryDim for self-attention).</param>
    /// <param name="heads">Number of heads.</param>
    /// <param name="headDim">Width of each head.</param>
    public CrossAttention(int queryDim, int contextDim, int heads, int headDim) : base(nameof(CrossAttention))
    {
        int inner = heads * headDim;
        to_q = Layers.Linear(queryDim, inner, hasBias: false);
        to_k = Layers.Linear(contextDim, inner, hasBias: false);
        to_v = Layers.Linear(contextDim, inner, hasBias: false);
        to_out = nn.Sequential(Layers.Linear(inner, queryDim), nn.Dropout(0.0));
        Heads = heads;
        RegisterComponents();
    }

    /// <summary>Number of attention heads.</summary>
    public int Heads { get; }

    /// <param name="x">[batch, tokens, query_dim]</param>
    /// <param name="context">[batch, context_tokens, context_dim]; pass <paramref name="x"/> for self-attention.</param>
    /// <returns>[batch, tokens, query_dim]</returns>
    public override Tensor forward(Tensor x, Tensor context)
    {
        using var scope = torch.NewDisposeScope();
        var q = AttentionHeads.Split(to_q.forward(x), Heads);        // [batch, heads, tokens, head_dim]
        var k = AttentionHeads.Split(to_k.forward(context), Heads);  // [batch, heads, context_tokens, head_dim]
        var v = AttentionHeads.Split(to_v.forward(context), Heads);
        var attended = F.scaled_dot_product_attention(q, k, v);      // softmax(q·kᵀ/√d)·v
        return to_out.forward(AttentionHeads.Merge(attended)).MoveToOuterDisposeScope();
    }
}
