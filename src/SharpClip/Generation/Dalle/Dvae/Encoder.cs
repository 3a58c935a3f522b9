using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Dalle.Dvae;

/// <summary>
/// <c>dall_e.encoder.Encoder</c>: a mapped image [batch, 3, h, w] → logits over the codebook for each 8×8 patch,
/// [batch, vocab, h/8, w/8]. A 7×7 input convolution to n_hid channels, groups of <see cref="EncoderBlock"/>s
/// doubling the width and halving the resolution (2× max-pool) from group to group, then ReLU and a 1×1 convolution
/// to the vocabulary. State-dict keys are the package's: <c>blocks.input.w</c>,
/// <c>blocks.group_1.block_1.res_path.conv_1.w</c>, <c>blocks.output.conv.b</c>, ...
/// </summary>
public sealed class Encoder : ScopedModule
{
    readonly nn.Module<Tensor, Tensor> blocks;

    public DvaeEncoderConfig Config { get; }

    public Encoder(DvaeEncoderConfig config) : base(nameof(Encoder))
    {
        Config = config;
        int layers = config.GroupCount * config.BlocksPerGroup;
        var stages = new List<(string, nn.Module<Tensor, Tensor>)> { ("input", new DvaeConv2d(config.InputChannels, config.HiddenWidth, 7)) };
        int width = config.HiddenWidth;
        for (int g = 1; g <= config.GroupCount; g++)
        {
            int groupWidth = config.HiddenWidth << (g - 1);
            var group = new List<(string, nn.Module<Tensor, Tensor>)>();
            for (int b = 1; b <= config.BlocksPerGroup; b++, width = groupWidth)
                group.Add(($"block_{b}", new EncoderBlock(width, groupWidth, layers)));
            if (g < config.GroupCount) group.Add(("pool", nn.MaxPool2d(kernel_size: 2)));
            stages.Add(($"group_{g}", nn.Sequential(group.ToArray())));
        }
        stages.Add(("output", nn.Sequential(("relu", nn.ReLU()), ("conv", new DvaeConv2d(width, config.VocabSize, 1)))));
        blocks = nn.Sequential(stages.ToArray());
        RegisterComponents();
    }

    /// <param name="x">[batch, input_channels, h, w] float32, pixels already mapped (<see cref="LogitLaplace.Map"/>).</param>
    /// <returns>[batch, vocab, h/8, w/8] logits (the pools floor odd sizes, as the package's do).</returns>
    protected override Tensor Compute(Tensor x)
    {
        if (x.dim() != 4) throw new ArgumentException($"input shape [{string.Join(",", x.shape)}] is not 4-d [batch, channels, h, w]");
        if (x.shape[1] != Config.InputChannels) throw new ArgumentException($"input has {x.shape[1]} channels but the encoder was built for {Config.InputChannels}");
        if (x.dtype != ScalarType.Float32) throw new ArgumentException($"input must be float32, got {x.dtype}");
        // A permuted input (an HWC image batch permuted to CHW) is channels-last in memory, and libtorch 2.10's oneDNN
        // convolution can die with a divide-by-zero trap on channels-last inputs (see Decoder): hand it a contiguous tensor.
        return blocks.forward(x.contiguous());
    }
}
