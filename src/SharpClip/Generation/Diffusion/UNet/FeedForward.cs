using TorchSharp;
using TorchSharp.Modules;
using SharpClip.Modeling;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Generation.Diffusion.UNet;

/// <summary>
/// The transformer block's gated feed-forward: <c>net.0</c> is a <see cref="Geglu"/> widening to 4 × dim,
/// <c>net.1</c> dropout, <c>net.2</c> the projection back to dim.
/// </summary>
public sealed class FeedForward : ScopedModule
{
    readonly Sequential net;

    public FeedForward(int dim, int mult = 4) : base(nameof(FeedForward))
    {
        net = nn.Sequential(new Geglu(dim, dim * mult), nn.Dropout(0.0), Layers.Linear(dim * mult, dim));
        RegisterComponents();
    }

    /// <param name="x">[batch, tokens, dim]</param>
    /// <returns>[batch, tokens, dim]</returns>
    protected override Tensor Compute(Tensor x) => net.forward(x);
}

/// <summary>
/// GEGLU: one projection to twice the hidden width, split into a value half and a gate half (in that order), and
/// <c>value · gelu(gate)</c> with the exact (erf) GELU. Key <c>proj</c>.
/// </summary>
public sealed class Geglu : ScopedModule
{
    readonly Linear proj;

    public Geglu(int dimIn, int dimOut) : base(nameof(Geglu))
    {
        proj = Layers.Linear(dimIn, dimOut * 2);
        RegisterComponents();
    }

    /// <param name="x">[batch, tokens, dim_in]</param>
    /// <returns>[batch, tokens, dim_out]</returns>
    protected override Tensor Compute(Tensor x)
    {
        var halves = proj.forward(x).chunk(2, -1); // value, gate: [batch, tokens, dim_out] each
        return halves[0].mul(F.gelu(halves[1]));
    }
}
