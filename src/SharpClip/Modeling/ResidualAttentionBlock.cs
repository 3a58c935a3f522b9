using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// One pre-LayerNorm transformer block, shared by both towers: <c>x + attn(ln_1(x))</c>, then <c>x + mlp(ln_2(x))</c>.
/// Field names are the reference's (<c>ln_1</c>, <c>attn</c>, <c>ln_2</c>, <c>mlp.c_fc</c>, <c>mlp.c_proj</c>), so
/// state-dict keys are too.
/// </summary>
/// <remarks>
/// The two sublayers are parameters: CLIP's towers use <see cref="SelfAttention"/> and <see cref="Mlp"/>; another
/// model's block (a GEGLU feed-forward, a different attention) passes its own modules to the second constructor
/// instead of copying this class. Their state-dict keys sit under <c>attn.*</c> and <c>mlp.*</c>.
/// </remarks>
public sealed class ResidualAttentionBlock : ScopedModule
{
    readonly LayerNorm ln_1;
    readonly nn.Module<Tensor, Tensor> attn;
    readonly LayerNorm ln_2;
    readonly nn.Module<Tensor, Tensor> mlp;

    /// <summary>CLIP's block: multi-head self-attention and a two-layer MLP.</summary>
    /// <param name="width">Model width.</param>
    /// <param name="heads">Attention heads; width must divide by it.</param>
    /// <param name="mlpWidth">Hidden width of the MLP (4× width in CLIP).</param>
    /// <param name="activation">The MLP's activation.</param>
    /// <param name="causal">Causal self-attention (the text tower).</param>
    public ResidualAttentionBlock(int width, int heads, int mlpWidth, Activation activation, bool causal)
        : this(width, new SelfAttention(width, heads, causal), new Mlp(width, mlpWidth, activation))
    {
    }

    /// <summary>A pre-LayerNorm block around the given sublayers.</summary>
    /// <param name="width">Model width: both sublayers map [batch, tokens, width] to the same shape.</param>
    /// <param name="attention">The token-mixing sublayer (key prefix <c>attn</c>).</param>
    /// <param name="feedForward">The per-token sublayer (key prefix <c>mlp</c>).</param>
    public ResidualAttentionBlock(int width, nn.Module<Tensor, Tensor> attention, nn.Module<Tensor, Tensor> feedForward)
        : base(nameof(ResidualAttentionBlock))
    {
        ln_1 = nn.LayerNorm(width);
        attn = attention;
        ln_2 = nn.LayerNorm(width);
        mlp = feedForward;
        RegisterComponents();
    }

    /// <summary>The token-mixing sublayer (a <see cref="SelfAttention"/> in CLIP).</summary>
    public nn.Module<Tensor, Tensor> Attention => attn;

    /// <summary>The per-token sublayer (an <see cref="Mlp"/> in CLIP).</summary>
    public nn.Module<Tensor, Tensor> FeedForward => mlp;

    /// <param name="x">[batch, tokens, width]</param>
    /// <returns>[batch, tokens, width]</returns>
    protected override Tensor Compute(Tensor x)
    {
        x = x.Plus(attn.forward(ln_1.forward(x)));
        x = x.Plus(mlp.forward(ln_2.forward(x)));
        return x;
    }
}
