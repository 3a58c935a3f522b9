using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Dalle.Dvae;

/// <summary>
/// <c>dall_e.decoder.Decoder</c>: one-hot codes [batch, vocab, h/8, w/8] → [batch, 2·3, h, w], the logit-Laplace
/// distribution's location (channels 0–2) and log-scale (3–5) per pixel. A 1×1 input convolution to n_init channels,
/// groups of <see cref="DecoderBlock"/>s halving the width and doubling the resolution (2× nearest upsample) from
/// group to group, then ReLU and a 1×1 output convolution. The image is <c>unmap(sigmoid(output[:, :3]))</c>
/// (<see cref="DiscreteVae.Decode"/>). State-dict keys are the package's.
/// </summary>
public sealed class Decoder : ScopedModule
{
    readonly nn.Module<Tensor, Tensor> blocks;

    public DvaeDecoderConfig Config { get; }

    public Decoder(DvaeDecoderConfig config) : base(nameof(Decoder))
    {
        Config = config;
        int layers = config.GroupCount * config.BlocksPerGroup;
        var stages = new List<(string, nn.Module<Tensor, Tensor>)> { ("input", new DvaeConv2d(config.VocabSize, config.InitialWidth, 1)) };
        int width = config.InitialWidth;
        for (int g = 1; g <= config.GroupCount; g++)
        {
            int groupWidth = config.HiddenWidth << (config.GroupCount - g);
            var group = new List<(string, nn.Module<Tensor, Tensor>)>();
            for (int b = 1; b <= config.BlocksPerGroup; b++, width = groupWidth)
                group.Add(($"block_{b}", new DecoderBlock(width, groupWidth, layers)));
            if (g < config.GroupCount) group.Add(("upsample", nn.Upsample(scale_factor: [2.0, 2.0], mode: UpsampleMode.Nearest)));
            stages.Add(($"group_{g}", nn.Sequential(group.ToArray())));
        }
        stages.Add(("output", nn.Sequential(("relu", nn.ReLU()), ("conv", new DvaeConv2d(width, 2 * config.OutputChannels, 1)))));
        blocks = nn.Sequential(stages.ToArray());
        RegisterComponents();
    }

    /// <param name="x">[batch, vocab, h', w'] float32: one-hot codes (or any soft mixture of them).</param>
    /// <returns>[batch, 2·output_channels, 8h', 8w'] logits.</returns>
    protected override Tensor Compute(Tensor x)
    {
        if (x.dim() != 4) throw new ArgumentException($"input shape [{string.Join(",", x.shape)}] is not 4-d [batch, vocab, h, w]");
        if (x.shape[1] != Config.VocabSize) throw new ArgumentException($"input has {x.shape[1]} channels but the decoder was built for a vocabulary of {Config.VocabSize}");
        if (x.dtype != ScalarType.Float32) throw new ArgumentException($"input must be float32, got {x.dtype}");
        // The one-hot codes arrive permuted from [batch, h, w, vocab], i.e. channels-last in memory, and libtorch 2.10's
        // oneDNN convolution dies with a divide-by-zero trap (SIGFPE, the whole process) on the released decoder's
        // channels-last shapes (DiscreteVaeTests.TheReleasedSizeDecodes): hand it a contiguous tensor.
        return blocks.forward(x.contiguous());
    }
}
