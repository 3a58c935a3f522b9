using SharpClip.Modeling;
using SharpClip.Generation.Diffusion.Autoencoder;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Training;

/// <summary>
/// The KL autoencoder's loss as LDM's <c>LPIPSWithDiscriminator</c> computes it without its perceptual and adversarial
/// terms: the reconstruction error summed over each image's pixels and averaged over the batch, plus
/// <c>kl_weight</c> × the posterior's KL to N(0, I) summed over each latent and averaged over the batch. Sums, not
/// means, are what make LDM's tiny KL weight (1e-6) the right size: it only keeps the latents from drifting in scale.
/// (LDM also divides the reconstruction by a learned <c>exp(logvar)</c>, initialised at 0; here it stays at 0.)
/// </summary>
public static class AutoencoderObjective
{
    /// <summary>Σ over channels and pixels of |x − x̂| (L1) or (x − x̂)² (L2), averaged over the batch.</summary>
    /// <param name="reconstruction">[batch, 3, h, w]</param>
    /// <param name="image">[batch, 3, h, w] in [−1, 1]</param>
    /// <param name="kind">L1 or L2.</param>
    public static Tensor Reconstruction(Tensor reconstruction, Tensor image, AutoencoderReconstruction kind)
    {
        using var scope = torch.NewDisposeScope();
        var diff = image.sub(reconstruction);
        var perPixel = kind == AutoencoderReconstruction.L1 ? diff.abs() : diff.Squared();
        return perPixel.sum([1, 2, 3]).mean().MoveToOuterDisposeScope();
    }

    /// <summary>The posterior's KL per image (<see cref="DiagonalGaussian.Kl"/>), averaged over the batch.</summary>
    public static Tensor Kl(DiagonalGaussian posterior)
    {
        using var kl = posterior.Kl();
        return kl.mean();
    }
}
