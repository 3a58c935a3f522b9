using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Generation.Diffusion.Autoencoder;

/// <summary>Doubles the resolution: nearest-neighbour ×2, then a 3×3 convolution with padding 1.</summary>
public sealed class Upsample : ScopedModule
{
    readonly AlignedConv2d conv;

    public Upsample(int channels) : base(nameof(Upsample))
    {
        conv = new AlignedConv2d(channels, channels, kernelSize: 3, padding: 1);
        RegisterComponents();
    }

    /// <param name="x">[batch, channels, h, w]</param>
    /// <returns>[batch, channels, 2h, 2w]</returns>
    protected override Tensor Compute(Tensor x)
    {
        var doubled = F.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
        var output = conv.forward(doubled);
        if (!torch.is_grad_enabled()) doubled.Dispose(); // a [batch, C, 2h, 2w] map: free it before the next block
        return output;
    }
}
