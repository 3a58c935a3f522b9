using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Generation.Diffusion.Autoencoder;

/// <summary>
/// Halves the resolution: zero padding of one column on the right and one row at the bottom (only), then a 3×3
/// convolution with stride 2 and no padding. The asymmetric pad is the reference's; the U-Net's downsampling pads
/// symmetrically instead, and mixing the two shifts every latent by half a pixel.
/// </summary>
public sealed class Downsample : ScopedModule
{
    readonly AlignedConv2d conv;

    public Downsample(int channels) : base(nameof(Downsample))
    {
        conv = new AlignedConv2d(channels, channels, kernelSize: 3, stride: 2);
        RegisterComponents();
    }

    /// <param name="x">[batch, channels, h, w]</param>
    /// <returns>[batch, channels, ⌊(h−2)/2⌋+1, ⌊(w−2)/2⌋+1] (h/2, w/2 for even sizes)</returns>
    protected override Tensor Compute(Tensor x) => conv.forward(F.pad(x, [0, 1, 0, 1])); // (left, right, top, bottom)
}
