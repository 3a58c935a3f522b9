using SharpClip.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Generation.Diffusion.Autoencoder;

/// <summary>
/// The two functions every block of the KL autoencoder shares (<c>Normalize</c> and <c>nonlinearity</c> in the
/// reference's <c>ldm/modules/diffusionmodules/model.py</c>).
/// </summary>
internal static class VaeLayers
{
    /// <summary>The reference's group count: every channel count of the autoencoder must divide by it.</summary>
    public const int Groups = 32;

    /// <summary>
    /// GroupNorm with 32 groups and eps 1e-6, affine (keys <c>weight</c>, <c>bias</c>), weight 1 and bias 0
    /// (<see cref="GroupNorms"/> says why that needs saying). The U-Net uses 1e-5; the autoencoder's smaller epsilon
    /// is part of matching the reference.
    /// </summary>
    public static GroupNorm Normalize(long channels) => GroupNorms.Create(Groups, channels, eps: 1e-6);

    /// <summary>
    /// Swish, <c>x · sigmoid(x)</c>. Without autograd it overwrites <paramref name="x"/> (a fresh normalisation
    /// output the caller owns), which saves one full-resolution activation per block: at 512×512 with 128 channels
    /// that is 128 MiB. libtorch's fused SiLU differs from the reference's two-op form by about one float32 ulp.
    /// </summary>
    public static Tensor Swish(Tensor x) => torch.is_grad_enabled() ? F.silu(x) : x.silu_();
}
