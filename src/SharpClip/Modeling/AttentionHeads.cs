using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// The reshapes around every multi-head attention: the model width is cut into <c>heads</c> slices of
/// <c>head_width</c> that attend independently, then laid side by side again. Shared by <see cref="SelfAttention"/>
/// and <see cref="AttentionPool2d"/>, and meant for any other attention (cross-attention over text states, a cached
/// causal decoder), so each is only its projections around libtorch's <c>scaled_dot_product_attention</c>.
/// </summary>
public static class AttentionHeads
{
    /// <summary>Cuts the width into heads (a view, no copy).</summary>
    /// <param name="x">[batch, tokens, width]</param>
    /// <param name="heads">Number of heads; width must divide by it.</param>
    /// <returns>[batch, heads, tokens, head_width]</returns>
    public static Tensor Split(Tensor x, int heads)
    {
        long batch = x.shape[0], tokens = x.shape[1], width = x.shape[2];
        return x.view(batch, tokens, heads, width / heads).transpose(1, 2);
    }

    /// <summary>Lays the heads side by side again: the inverse of <see cref="Split"/>.</summary>
    /// <param name="x">[batch, heads, tokens, head_width]</param>
    /// <returns>[batch, tokens, heads·head_width]</returns>
    public static Tensor Merge(Tensor x)
    {
        long batch = x.shape[0], heads = x.shape[1], tokens = x.shape[2], headWidth = x.shape[3];
        return x.transpose(1, 2).reshape(batch, tokens, heads * headWidth);
    }
}
