using SharpClip.Generation.Diffusion.Autoencoder;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Diffusion.Autoencoder;

/// <summary>
/// What parity cannot show: no tensor handle outlives an encode or decode, and the same code trains (the memory
/// savings that overwrite activations in place are taken only without autograd).
/// </summary>
public class AutoencoderRuntimeTests
{
    static AutoencoderKL Tiny()
    {
        torch.manual_seed(5);
        var vae = new AutoencoderKL(new AutoencoderConfig { Channels = 32, ChannelMultipliers = [1, 1], ResBlocks = 1, AttentionLevels = [1] });
        vae.eval();
        return vae;
    }

    [Fact]
    public void EncodeAndDecodeLeaveNoTensorsBehind()
    {
        using var vae = Tiny();
        using var image = torch.rand(2, 3, 12, 8).mul(2).sub(1);
        using var latent = torch.randn(2, 4, 3, 5);
        void Round()
        {
            using var mode = torch.inference_mode();
            vae.EncodeToLatent(image, sample: true).Dispose();
            vae.EncodeToLatent(image).Dispose();
            using (var posterior = vae.Encode(image)) { }
            vae.Decode(latent).Dispose();
        }
        Round(); // warm-up
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 2; i++) Round();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void ShapesFollowTheDownsampleFactorAndNonSquareSizes()
    {
        using var vae = Tiny();
        using var mode = torch.inference_mode();
        using var image = torch.zeros(1, 3, 12, 8);
        using var latent = vae.EncodeToLatent(image);
        Assert.Equal([1L, 4, 6, 4], latent.shape);
        using var decoded = vae.Decode(latent);
        Assert.Equal([1L, 3, 12, 8], decoded.shape);
        using var wrong = torch.zeros(1, 5, 6, 4);
        Assert.Throws<ArgumentException>(() => vae.Decode(wrong));
    }

    /// <summary>A fresh model starts as PyTorch's does: every GroupNorm weight 1 and bias 0 (TorchSharp leaves them uninitialised).</summary>
    [Fact]
    public void FreshNormalisationsAreIdentityAffine()
    {
        using var vae = Tiny();
        var norms = vae.named_parameters().Where(p => p.name.Contains("norm")).ToList();
        Assert.NotEmpty(norms);
        foreach (var (name, p) in norms)
            Assert.True(p.eq(name.EndsWith("weight", StringComparison.Ordinal) ? 1f : 0f).all().item<bool>(), name);
    }

    [Fact]
    public void GradientsReachEveryParameterThroughEncodeAndDecode()
    {
        using var vae = Tiny();
        vae.train();
        using var scope = torch.NewDisposeScope();
        var image = torch.rand(1, 3, 8, 8).mul(2).sub(1);
        using var posterior = vae.Encode(image);
        var reconstruction = vae.DecodeUnscaled(posterior.Sample(torch.randn(posterior.Mean.shape)));
        var loss = reconstruction.sub(image).square().mean().add(posterior.Mean.square().mean());
        loss.backward();
        var missing = vae.named_parameters().Where(p => p.parameter.grad is null || p.parameter.grad.abs().sum().item<float>() == 0).Select(p => p.name).ToList();
        Assert.True(missing.Count == 0, "no gradient: " + string.Join(" ", missing));
    }
}
