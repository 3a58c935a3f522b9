using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// OpenAI CLIP's activation, <c>x · sigmoid(1.702 · x)</c>: a cheap approximation of GELU that the published OpenAI
/// weights were trained with, so it must be kept to reproduce their outputs.
/// </summary>
public sealed class QuickGelu : nn.Module<Tensor, Tensor>
{
    public QuickGelu() : base(nameof(QuickGelu)) { }

    public override Tensor forward(Tensor x)
    {
        // Without autograd the sigmoid may overwrite its own temporary: one allocation instead of three.
        if (!torch.is_grad_enabled()) return x.mul(KeptScalars.QuickGeluSlope).sigmoid_().mul_(x);
        return x.mul(torch.sigmoid(x.mul(KeptScalars.QuickGeluSlope)));
    }
}

/// <summary>Builds the MLP activation a config asks for.</summary>
internal static class Activations
{
    public static nn.Module<Tensor, Tensor> Create(Activation activation) => activation switch
    {
        Activation.QuickGelu => new QuickGelu(),
        Activation.Gelu => nn.GELU(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation"),
    };
}
