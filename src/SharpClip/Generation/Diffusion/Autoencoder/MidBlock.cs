using TorchSharp;
using SharpClip.Modeling;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Autoencoder;

/// <summary>
/// The bottleneck of encoder and decoder: ResnetBlock, attention, ResnetBlock at the lowest resolution (keys
/// <c>mid.block_1</c>, <c>mid.attn_1</c>, <c>mid.block_2</c>). It has attention even when the config's
/// <c>attn_resolutions</c> is empty.
/// </summary>
public sealed class MidBlock : ScopedModule
{
    readonly ResnetBlock block_1;
    readonly AttnBlock attn_1;
    readonly ResnetBlock block_2;

    public MidBlock(int channels) : base(nameof(MidBlock))
    {
        block_1 = new ResnetBlock(channels, channels);
        attn_1 = new AttnBlock(channels);
        block_2 = new ResnetBlock(channels, channels);
        RegisterComponents();
    }

    /// <param name="x">[batch, channels, h, w]</param>
    /// <returns>[batch, channels, h, w]</returns>
    protected override Tensor Compute(Tensor x) => block_2.forward(attn_1.forward(block_1.forward(x)));
}
