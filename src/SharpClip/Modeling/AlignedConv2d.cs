using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Modeling;

/// <summary>
/// A 2-D convolution (PyTorch's <c>Conv2d</c>: same parameters, keys and initialisation) that hands libtorch only
/// channel counts that are multiples of <see cref="ChannelBlock"/>, zero-padding the others and dropping the padding
/// from the result.
/// </summary>
/// <remarks>
/// <para>Why: libtorch 2.10's oneDNN 3.7.1 convolutions are wrong when a channel count does not fill the CPU's
/// register block (16 floats on AVX-512, 8 on AVX2) and oneDNN stores the tensor in a padded blocked layout. Measured
/// against float64 on this project's machines: 24 → 24 channels, 3×3, forward off by 30 %; 4 or 8 channels, input
/// gradient off by 40–80 % or NaN, and with two threads different from run to run. A ModifiedResNet of width 8 or 16
/// (stem convolutions of 4 or 8 channels) and RN50x4 (a 40-channel stem) gave wrong features or gradients.
/// Channels-last inputs do not help (still wrong for RN50x4, and a divide-by-zero trap inside libtorch for RN50);
/// turning oneDNN off process-wide is exact but makes RN50 2.5–3.7× slower.</para>
/// <para>Zero channels add nothing to a sum, so padding is exact: padded input channels meet zero weights and padded
/// output channels are cut away, and autograd carries the gradient through the pad to the real weight. Aligned
/// counts (every channel count of RN50, RN101, RN50x16, RN50x64 and the ViTs) and three-channel image inputs (which
/// oneDNN reads in a plain layout) take libtorch's path unchanged. bfloat16 has the same defect, worse (NaN forward
/// outputs at 24 and 40 channels), and the same cure. <c>ConvolutionCorrectnessTests</c> checks float32 and bfloat16
/// against float64 over a grid of shapes, repeatedly on two threads.</para>
/// </remarks>
public sealed class AlignedConv2d : Convolution
{
    /// <summary>Channel counts are padded up to a multiple of this (AVX-512's block; a multiple of AVX2's 8 too).</summary>
    public const int ChannelBlock = 16;

    public AlignedConv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, bool bias = true)
        : base(nameof(Conv2d), inChannels, outChannels, [kernelSize, kernelSize], [stride, stride], [padding, padding],
            null, [1, 1], false, [0, 0], 1, bias, PaddingModes.Zeros, Layers.MetaWhileUninitialized)
    {
        if (UninitializedWeights.Active) Layers.ToUninitializedCpu(this);   // built for loading: no initialisation
    }

    /// <param name="input">[batch, in_channels, h, w]</param>
    /// <returns>[batch, out_channels, h', w']</returns>
    public override Tensor forward(Tensor input) => Convolve(input, weight, bias, stride[0], padding![0]);

    /// <summary>
    /// <c>conv2d(input, weight, bias, stride, padding)</c> with the channel counts libtorch sees aligned to
    /// <see cref="ChannelBlock"/> (see the class remarks).
    /// </summary>
    public static Tensor Convolve(Tensor input, Tensor weight, Tensor? bias, long stride, long padding)
    {
        long outChannels = weight.shape[0], inChannels = weight.shape[1];
        // An RGB image's three channels are read in oneDNN's plain layout, never padded: exact forward and weight
        // gradient; but in bfloat16 the gradient for the image itself was 40-50 % off, so a differentiated input is
        // aligned too.
        bool plainInput = inChannels <= 3 && !input.requires_grad;
        long padIn = inChannels % ChannelBlock == 0 || plainInput ? 0 : Pad(inChannels);
        long padOut = outChannels % ChannelBlock == 0 ? 0 : Pad(outChannels);
        if (padIn == 0 && padOut == 0)
            return F.conv2d(input, weight, bias, [stride, stride], [padding, padding]);

        using var scope = torch.NewDisposeScope();
        // F.pad lists (before, after) pairs from the last dimension backwards: kw, kh, in_channels, out_channels.
        var alignedWeight = F.pad(weight, [0, 0, 0, 0, 0, padIn, 0, padOut]);
        var alignedInput = padIn == 0 ? input : F.pad(input, [0, 0, 0, 0, 0, padIn]);
        var alignedBias = bias is null || padOut == 0 ? bias : F.pad(bias, [0, padOut]);
        var output = F.conv2d(alignedInput, alignedWeight, alignedBias, [stride, stride], [padding, padding]);
        return (padOut == 0 ? output : output.narrow(1, 0, outChannels)).MoveToOuterDisposeScope();
    }

    static long Pad(long channels) => (channels + ChannelBlock - 1) / ChannelBlock * ChannelBlock - channels;
}
