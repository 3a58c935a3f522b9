using SharpClip.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Autoencoder;

/// <summary>
/// The autoencoder's residual block: norm1, swish, conv1 (3×3), norm2, swish, (dropout), conv2 (3×3), added to the
/// input — through a 1×1 <c>nin_shortcut</c> where the channel count changes. No timestep input: the autoencoder
/// builds its blocks with <c>temb_channels=0</c>, so there is no <c>temb_proj</c>. Dropout is 0 in every SD
/// autoencoder and absent here.
/// </summary>
public sealed class ResnetBlock : ScopedModule
{
    readonly GroupNorm norm1;
    readonly AlignedConv2d conv1;
    readonly GroupNorm norm2;
    readonly AlignedConv2d conv2;
    readonly AlignedConv2d? nin_shortcut;

    public ResnetBlock(int inChannels, int outChannels) : base(nameof(ResnetBlock))
    {
        norm1 = VaeLayers.Normalize(inChannels);
        conv1 = new AlignedConv2d(inChannels, outChannels, kernelSize: 3, padding: 1);
        norm2 = VaeLayers.Normalize(outChannels);
        conv2 = new AlignedConv2d(outChannels, outChannels, kernelSize: 3, padding: 1);
        if (inChannels != outChannels) nin_shortcut = new AlignedConv2d(inChannels, outChannels, kernelSize: 1);
        RegisterComponents();
    }

    /// <param name="x">[batch, in_channels, h, w]</param>
    /// <returns>[batch, out_channels, h, w]</returns>
    protected override Tensor Compute(Tensor x)
    {
        // Each full-resolution intermediate is freed as soon as the next exists: the decoder's last level holds
        // [batch, 128, 512, 512] activations at SD's size, and the scope alone would keep four of them alive.
        var h = Step(VaeLayers.Swish(norm1.forward(x)), conv1);
        h = Step(VaeLayers.Swish(Step(h, norm2)), conv2);
        var shortcut = nin_shortcut is null ? x : nin_shortcut.forward(x);
        return h.PlusInPlace(shortcut);
    }

    static Tensor Step(Tensor input, nn.Module<Tensor, Tensor> layer)
    {
        var output = layer.forward(input);
        if (!torch.is_grad_enabled()) input.Dispose(); // under autograd the graph keeps its own reference anyway
        return output;
    }
}
