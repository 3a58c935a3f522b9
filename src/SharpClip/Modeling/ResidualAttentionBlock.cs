using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// One pre-LayerNorm transformer block, shared by both towers: <c>x + attn(ln_1(x))</c>, then <c>x + mlp(ln_2(x))</c>.
/// Field names are the reference's (<c>ln_1</c>, <c>attn</c>, <c>ln_2</c>, <c>mlp.c_fc</c>, <c>mlp.c_proj</c>).
/// </summary>
public sealed class ResidualAttentionBlock : nn.Module<Tensor, Tensor>
{
    readonly LayerNorm ln_1;
    readonly SelfAttention attn;
    readonly LayerNorm ln_2;
    readonly Mlp mlp;

    public ResidualAttentionBlock(int width, int heads, int mlpWidth, Activation activation, bool causal)
        : base(nameof(ResidualAttentionBlock))
    {
        ln_1 = nn.LayerNorm(width);
        attn = new SelfAttention(width, heads, causal);
        ln_2 = nn.LayerNorm(width);
        mlp = new Mlp(width, mlpWidth, activation);
        RegisterComponents();
    }

    internal SelfAttention Attention => attn;

    internal Mlp Mlp => mlp;

    /// <param name="x">[batch, tokens, width]</param>
    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        x = x.add(attn.forward(ln_1.forward(x)), KeptScalars.One);
        x = x.add(mlp.forward(ln_2.forward(x)), KeptScalars.One);
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>The block's feed-forward part: <c>c_proj(act(c_fc(x)))</c>.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    readonly Linear c_fc;
    readonly nn.Module<Tensor, Tensor> gelu;
    readonly Linear c_proj;

    public Mlp(int width, int hiddenWidth, Activation activation) : base(nameof(Mlp))
    {
        c_fc = nn.Linear(width, hiddenWidth);
        gelu = Activations.Create(activation);
        c_proj = nn.Linear(hiddenWidth, width);
        RegisterComponents();
    }

    internal Linear Fc => c_fc;

    internal Linear Proj => c_proj;

    /// <param name="x">[..., width]</param>
    public override Tensor forward(Tensor x)
    {
        using var hidden = c_fc.forward(x);          // [..., hidden]
        using var activated = gelu.forward(hidden);
        return c_proj.forward(activated);
    }
}
