using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Generation.Dalle.Transformer;

/// <summary>
/// Causal <see cref="SelfAttention"/> that can decode with a key/value cache: the same tensors (<c>in_proj_weight</c>,
/// <c>in_proj_bias</c>, <c>out_proj</c>) and fused core, with the cache appended between the projection and the core.
/// Without a <see cref="Cache"/> it is exactly a causal <see cref="SelfAttention"/>; with one, the new positions' keys and
/// values join the cached ones and the queries attend over all of them (each new position sees the whole prefix and the
/// new positions up to itself).
/// </summary>
public sealed class CachedCausalAttention(int width, int heads) : SelfAttention(width, heads, causal: true)
{
    /// <summary>The layer's cache while a cached decode runs (set by <see cref="DalleTransformer"/>); null otherwise.</summary>
    internal LayerKvCache? Cache { get; set; }

    /// <param name="x">[batch, new_tokens, width]</param>
    /// <returns>[batch, new_tokens, width]</returns>
    protected override Tensor Compute(Tensor x)
    {
        if (Cache is not { } cache) return base.Compute(x);
        var (q, k, v) = ProjectHeads(x);                                   // [batch, heads, tokens, head_width]
        long tokens = x.shape[1], past = cache.Length;
        (k, v) = cache.Append(k, v);                                       // [batch, heads, past + tokens, head_width]
        Tensor attended;
        if (past == 0) attended = F.scaled_dot_product_attention(q, k, v, is_casual: true);
        else if (tokens == 1) attended = F.scaled_dot_product_attention(q, k, v);   // one new token sees everything cached
        else
        {
            // new position i (absolute past + i) sees keys 0 ..= past + i
            var allowed = KeptScalars.Range(0, past + tokens).unsqueeze(0).le(KeptScalars.Range(past, past + tokens).unsqueeze(1));   // [tokens, past + tokens]
            attended = F.scaled_dot_product_attention(q, k, v, attn_mask: allowed);
        }
        return OutProj.forward(AttentionHeads.Merge(attended));           // [batch, tokens, width]
    }
}
