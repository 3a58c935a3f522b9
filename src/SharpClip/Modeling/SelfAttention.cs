using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Modeling;

/// <summary>
/// Multi-head self-attention over batch-first sequences, with the tensors of PyTorch's <c>nn.MultiheadAttention</c>
/// (<c>in_proj_weight</c> [3W, W] packing Q, K, V; <c>in_proj_bias</c>; <c>out_proj</c>) so OpenAI state dicts load
/// unchanged. The attention core is libtorch's fused <c>scaled_dot_product_attention</c>; the causal mask of the text
/// tower is its <c>is_causal</c> flag, so no mask tensor is stored or converted between dtypes.
/// </summary>
/// <remarks>
/// Other attentions are additions beside this one, not copies of it: cross-attention (queries from the sequence, keys
/// and values from text states) is its own projections around <see cref="AttentionHeads"/> and the same fused core;
/// a cached causal decoder appends each step's keys and values to the cache between the projection and the core.
/// </remarks>
public class SelfAttention : ScopedModule
{
    // Parameter fields are not readonly: Module.to() swaps them for converted copies through reflection.
    Parameter in_proj_weight;
    Parameter in_proj_bias;
    readonly Linear out_proj;

    /// <param name="width">Model width W.</param>
    /// <param name="heads">Number of heads; W must divide by it.</param>
    /// <param name="causal">Each position attends only to itself and earlier positions (the text tower).</param>
    public SelfAttention(int width, int heads, bool causal) : base(nameof(SelfAttention))
    {
        if (heads <= 0 || width % heads != 0) throw new ArgumentException($"width {width} does not divide into {heads} heads");
        Heads = heads;
        Causal = causal;
        // PyTorch's nn.MultiheadAttention initialisation: Xavier-uniform packed projection, zero biases.
        in_proj_weight = Layers.Parameter([3L * width, width], () => nn.init.xavier_uniform_(torch.empty(3L * width, width)));
        in_proj_bias = new Parameter(torch.zeros(3L * width));
        out_proj = Layers.Linear(width, width);
        using (torch.no_grad()) nn.init.zeros_(out_proj.bias!);
        RegisterComponents();
    }

    /// <summary>Number of attention heads.</summary>
    public int Heads { get; }

    /// <summary>Whether each position sees only itself and earlier positions.</summary>
    public bool Causal { get; }

    internal Parameter InProjWeight => in_proj_weight;

    internal Linear OutProj => out_proj;

    /// <param name="x">[batch, tokens, width]</param>
    /// <returns>[batch, tokens, width]</returns>
    protected override Tensor Compute(Tensor x)
    {
        var (q, k, v) = ProjectHeads(x);
        var attended = F.scaled_dot_product_attention(q, k, v, is_casual: Causal); // [batch, heads, tokens, head_width]
        return out_proj.forward(AttentionHeads.Merge(attended));       // [batch, tokens, width]
    }

    /// <summary>The packed projection of <paramref name="x"/> [batch, tokens, width], split into queries, keys and
    /// values, each [batch, heads, tokens, head_width] — what a subclass puts a key/value cache behind.</summary>
    protected (Tensor Q, Tensor K, Tensor V) ProjectHeads(Tensor x)
    {
        long batch = x.shape[0], tokens = x.shape[1], width = x.shape[2];
        var qkv = F.linear(x, in_proj_weight, in_proj_bias)             // [batch, tokens, 3·width]
            .view(batch, tokens, 3, Heads, width / Heads)
            .permute(2, 0, 3, 1, 4);                                    // [3, batch, heads, tokens, head_width]
        return (qkv[0], qkv[1], qkv[2]);
    }
}
