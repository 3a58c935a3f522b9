using SharpClip.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Generation.Diffusion.UNet;

/// <summary>
/// Halves the resolution with a learned 3×3 convolution, stride 2, symmetric padding 1 (key <c>op</c>). Unlike the
/// autoencoder's downsample, which pads only right and bottom.
/// </summary>
public sealed class Downsample : ScopedModule
{
    readonly Conv2d op;

    public Downsample(int channels, int outChannels) : base(nameof(Downsample))
    {
        op = Layers.Conv2d(channels, outChannels, 3, stride: 2, padding: 1);
        RegisterComponents();
    }

    /// <param name="x">[batch, channels, height, width]</param>
    /// <returns>[batch, out_channels, ⌈height/2⌉, ⌈width/2⌉]</returns>
    protected override Tensor Compute(Tensor x) => op.forward(x);
}

/// <summary>Doubles the resolution: nearest-neighbour ×2, then a 3×3 convolution (key <c>conv</c>).</summary>
public sealed class Upsample : ScopedModule
{
    readonly Conv2d conv;

    public Upsample(int channels, int outChannels) : base(nameof(Upsample))
    {
        conv = Layers.Conv2d(channels, outChannels, 3, padding: 1);
        RegisterComponents();
    }

    /// <param name="x">[batch, channels, height, width]</param>
    /// <returns>[batch, out_channels, 2·height, 2·width]</returns>
    protected override Tensor Compute(Tensor x) =>
        conv.forward(F.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest));
}
