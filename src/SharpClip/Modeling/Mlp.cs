using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// The transformer block's feed-forward part, <c>c_proj(act(c_fc(x)))</c>: widen, apply the activation, project back.
/// Key names are the reference's (<c>c_fc</c>, <c>c_proj</c>; the activation has no tensors).
/// </summary>
public sealed class Mlp : ScopedModule
{
    readonly Linear c_fc;
    readonly nn.Module<Tensor, Tensor> gelu;
    readonly Linear c_proj;

    /// <param name="width">Input and output width.</param>
    /// <param name="hiddenWidth">Width of the hidden layer.</param>
    /// <param name="activation">The activation between the two layers.</param>
    public Mlp(int width, int hiddenWidth, Activation activation) : base(nameof(Mlp))
    {
        c_fc = Layers.Linear(width, hiddenWidth);
        gelu = Activations.Create(activation);
        c_proj = Layers.Linear(hiddenWidth, width);
        RegisterComponents();
    }

    internal Linear Fc => c_fc;

    internal Linear Proj => c_proj;

    /// <param name="x">[..., width]</param>
    /// <returns>[..., width]</returns>
    protected override Tensor Compute(Tensor x) => c_proj.forward(gelu.forward(c_fc.forward(x))); // hidden: [..., hidden_width]
}
