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
    /// GroupNorm with 32 groups and eps 1e-6, affine (keys <c>weight</c>, <c>bias</c>), initialised as PyTorch's:
    /// weight 1, bias 0. The U-Net uses 1e-5; the autoencoder's smaller epsilon is part of matching the reference.
    /// </summary>
    /// <remarks>
    /// TorchSharp 0.107's <c>nn.GroupNorm</c> allocates its weight and bias with <c>torch.empty</c> and never
    /// initialises them: whatever the allocator returned (seen: all ≈0, so every normalised map was 0 and a freshly
    /// built autoencoder's output was constant over the image, with no gradient reaching the encoder). Loading
    /// weights hides it; training from scratch does not.
    /// </remarks>
    public static GroupNorm Normalize(long channels)
    {
        var norm = nn.GroupNorm(Groups, channels, eps: 1e-6);
        using (torch.no_grad())
        {
            norm.weight.fill_(1.0);
            norm.bias!.zero_();
        }
        return norm;
    }

    /// <summary>
    /// Swish, <c>x · sigmoid(x)</c>. Without autograd it overwrites <paramref name="x"/> (a fresh normalisation
    /// output the caller owns), which saves one full-resolution activation per block: at 512×512 with 128 channels
    /// that is 128 MiB. libtorch's fused SiLU differs from the reference's two-op form by about one float32 ulp.
    /// </summary>
    public static Tensor Swish(Tensor x) => torch.is_grad_enabled() ? F.silu(x) : x.silu_();
}
