using SharpClip.Generation.Diffusion.Autoencoder;
using SharpClip.Generation.Diffusion.UNet;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Diffusion;

/// <summary>
/// A freshly built U-Net and autoencoder normalise with weight 1 and bias 0, as PyTorch's GroupNorm starts: TorchSharp
/// 0.107 leaves them <c>torch.empty</c>. The allocator is first handed back freed memory full of 7s, so that an
/// uninitialised norm would pick up a value other than the zeros a fresh page happens to hold.
/// </summary>
public class GroupNormInitTests
{
    static void DirtyTheAllocator()
    {
        for (int size = 32; size <= 4096; size *= 2)
            using (var junk = torch.full([size], 7.0f)) { }
    }

    static void AssertIdentityAffine(nn.Module model, string what)
    {
        var norms = model.named_modules().Where(m => m.module is GroupNorm).ToList();
        Assert.NotEmpty(norms);
        foreach (var (name, module) in norms)
        {
            var norm = (GroupNorm)module;
            Assert.True(norm.weight!.eq(1.0f).all().item<bool>(), $"{what} {name}.weight is not all 1");
            Assert.True(norm.bias!.eq(0.0f).all().item<bool>(), $"{what} {name}.bias is not all 0");
        }
    }

    [Fact]
    public void AFreshUNetsNormsStartAtOneAndZero()
    {
        DirtyTheAllocator();
        using var unet = new UNetModel(new UNetConfig { ModelChannels = 32, ChannelMult = [1, 2], NumResBlocks = 1, AttentionResolutions = [1], NumHeads = 2, ContextDim = 24 });
        AssertIdentityAffine(unet, "U-Net");
    }

    [Fact]
    public void AFreshAutoencodersNormsStartAtOneAndZero()
    {
        DirtyTheAllocator();
        using var vae = new AutoencoderKL(new AutoencoderConfig { Channels = 32, ChannelMultipliers = [1, 2], ResBlocks = 1 });
        AssertIdentityAffine(vae, "autoencoder");
    }
}
