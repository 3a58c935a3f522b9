using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Autoencoder;

/// <summary>
/// The encoder's posterior, a Gaussian with diagonal covariance per latent position (the reference's
/// <c>DiagonalGaussianDistribution</c>): the moments split into mean and log-variance along channels, the
/// log-variance clamped to [−30, 20] so that <c>exp</c> neither underflows to 0 nor overflows.
/// Owns its tensors; dispose it.
/// </summary>
public sealed class DiagonalGaussian : IDisposable
{
    static readonly Scalar MinLogVar = -30.0, MaxLogVar = 20.0, Half = 0.5;

    /// <param name="moments">[batch, 2·c, h, w]: mean in the first c channels, log-variance in the rest. Not taken over.</param>
    public DiagonalGaussian(Tensor moments)
    {
        if (moments.dim() != 4 || moments.shape[1] % 2 != 0)
            throw new ArgumentException($"moments must be [batch, 2·channels, h, w], got [{string.Join(", ", moments.shape)}]", nameof(moments));
        using var scope = torch.NewDisposeScope();
        var halves = moments.chunk(2, dim: 1);
        Mean = halves[0].contiguous().MoveToOuterDisposeScope();
        LogVar = halves[1].clamp(MinLogVar, MaxLogVar).MoveToOuterDisposeScope();
        Std = LogVar.mul(Half).exp_().MoveToOuterDisposeScope();
    }

    /// <summary>[batch, c, h, w]</summary>
    public Tensor Mean { get; }

    /// <summary>[batch, c, h, w], clamped to [−30, 20].</summary>
    public Tensor LogVar { get; }

    /// <summary>[batch, c, h, w] = exp(0.5 · logvar).</summary>
    public Tensor Std { get; }

    /// <summary>The most likely latent: the mean (a new tensor the caller owns).</summary>
    public Tensor Mode() => Mean.clone();

    /// <summary><c>mean + std · noise</c> for a standard-normal <paramref name="noise"/> of the mean's shape.</summary>
    public Tensor Sample(Tensor noise)
    {
        if (!noise.shape.SequenceEqual(Mean.shape))
            throw new ArgumentException($"noise has shape [{string.Join(", ", noise.shape)}], the latent is [{string.Join(", ", Mean.shape)}]", nameof(noise));
        using var scope = torch.NewDisposeScope();
        return Mean.add(Std.mul(noise.to(Mean.dtype, Mean.device)), KeptOne).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A sample with noise drawn from <paramref name="generator"/> (or the global one), as the reference draws it:
    /// <c>torch.randn(mean.shape)</c> in float32 on the CPU, then moved to the mean's device and dtype.
    /// </summary>
    public Tensor Sample(Generator? generator = null)
    {
        using var noise = torch.randn(Mean.shape, ScalarType.Float32, CPU, generator: generator);
        return Sample(noise);
    }

    /// <summary>
    /// KL divergence to the standard normal prior per image, summed over the latent (the reference's <c>kl()</c>):
    /// <c>0.5 · Σ(mean² + var − 1 − logvar)</c>. Training the autoencoder weighs it lightly (LDM: 1e-6) so the
    /// latents stay near unit scale without blurring the reconstruction.
    /// </summary>
    /// <returns>[batch]</returns>
    public Tensor Kl()
    {
        using var scope = torch.NewDisposeScope();
        var terms = Modeling.KeptScalars.Squared(Mean).add(LogVar.exp(), KeptOne).sub(KeptOne).sub(LogVar);   // [batch, c, h, w]
        return terms.sum([1, 2, 3]).mul(Half).MoveToOuterDisposeScope();
    }

    static readonly Scalar KeptOne = 1.0;

    public void Dispose()
    {
        Mean.Dispose();
        LogVar.Dispose();
        Std.Dispose();
    }
}
