using SharpClip.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Generation.Dalle.Transformer;

/// <summary>
/// Causal multi-head self-attention that can decode with a key/value cache: the tensors of
/// <see cref="SelfAttention"/> (<c>in_proj_weight</c>, <c>in_proj_bias</c>, <c>out_proj</c>) and its fused core, with the
/// cache appended between the projection and the core. Without a <see cref="Cache"/> it is exactly a causal
/// <see cref="SelfAttention"/>; with one, the new positions' keys and values join the cached ones and the queries
/// attend over all of them (each new position sees the whole prefix and the new positions up to itself).
/// </summary>
public sealed class CachedCausalAttention : ScopedModule
{
    // Parameter fields are not readonly: Module.to() swaps them for converted copies through reflection.
    Parameter in_proj_weight;
    Parameter in_proj_bias;
    readonly Linear out_proj;

    public CachedCausalAttention(int width, int heads) : base(nameof(CachedCausalAttention))
    {
        if (heads <= 0 || width % heads != 0) throw new ArgumentException($"width {width} does not divide into {heads} heads");
        Heads = heads;
        in_proj_weight = new Parameter(nn.init.xavier_uniform_(torch.empty(3L * width, width)));
        in_proj_bias = new Parameter(torch.zeros(3L * width));
        out_proj = nn.Linear(width, width);
        using (torch.no_grad()) nn.init.zeros_(out_proj.bias!);
        RegisterComponents();
    }

    public int Heads { get; }

    /// <summary>The layer's cache while a cached decode runs (set by <see cref="DalleTransformer"/>); null otherwise.</summary>
    internal LayerKvCache? Cache { get; set; }

    /// <param name="x">[batch, new_tokens, width]</param>
    /// <returns>[batch, new_tokens, width]</returns>
    protected override Tensor Compute(Tensor x)
    {
        long batch = x.shape[0], tokens = x.shape[1], width = x.shape[2];
        var qkv = F.linear(x, in_proj_weight, in_proj_bias)                // [batch, tokens, 3·width]
            .view(batch, tokens, 3, Heads, width / Heads)
            .permute(2, 0, 3, 1, 4);                                       // [3, batch, heads, tokens, head_width]
        Tensor q = qkv[0], k = qkv[1], v = qkv[2];
        long past = Cache?.Length ?? 0;
        if (Cache is { } cache) (k, v) = cache.Append(k, v);               // [batch, heads, past + tokens, head_width]
        Tensor attended;
        if (past == 0) attended = F.scaled_dot_product_attention(q, k, v, is_casual: true);
        else if (tokens == 1) attended = F.scaled_dot_product_attention(q, k, v);   // one new token sees everything cached
        else
        {
            // new position i (absolute past + i) sees keys 0 ..= past + i
            var allowed = torch.arange(past + tokens).unsqueeze(0).le(torch.arange(past, past + tokens).unsqueeze(1));   // [tokens, past + tokens]
            attended = F.scaled_dot_product_attention(q, k, v, attn_mask: allowed);
        }
        return out_proj.forward(AttentionHeads.Merge(attended));          // [batch, tokens, width]
    }
}
