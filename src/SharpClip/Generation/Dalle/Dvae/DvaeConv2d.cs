using SharpClip.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Generation.Dalle.Dvae;

/// <summary>
/// openai/DALL-E's <c>dall_e.utils.Conv2d</c>: a stride-1 convolution with "same" padding <c>(kw − 1) / 2</c> whose
/// parameters are called <c>w</c> [n_out, n_in, kw, kw] and <c>b</c> [n_out] — the names in the released
/// <c>encoder.pkl</c>/<c>decoder.pkl</c>, so their state dicts load without renaming.
/// </summary>
/// <remarks>The package's float16 path is CUDA-only; on the CPU it is float32, as here. The convolution goes
/// through <see cref="AlignedConv2d.Convolve"/>: the dVAE's narrow residual paths (n_hid/4 channels) hit libtorch's
/// oneDNN defect for channel counts that do not fill a register block.</remarks>
public sealed class DvaeConv2d : nn.Module<Tensor, Tensor>
{
    // Parameter fields are not readonly: Module.to() swaps them for converted copies through reflection.
    Parameter w;
    Parameter b;

    /// <summary>Kernel width (odd).</summary>
    public int KernelWidth { get; }

    /// <summary>Initialised as the package does: w ~ N(0, 1/(n_in·kw²)), b = 0.</summary>
    public DvaeConv2d(long inChannels, long outChannels, int kernelWidth) : base("Conv2d")
    {
        if (kernelWidth < 1 || kernelWidth % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernelWidth), $"kernel width {kernelWidth} is not odd");
        KernelWidth = kernelWidth;
        w = Layers.Parameter([outChannels, inChannels, kernelWidth, kernelWidth], () =>
        {
            using Scalar std = 1 / Math.Sqrt(inChannels * kernelWidth * kernelWidth);   // held for the op (Modeling/KeptScalars)
            return torch.randn(outChannels, inChannels, kernelWidth, kernelWidth).mul_(std);
        }, requiresGrad: false);
        b = new Parameter(torch.zeros(outChannels), requires_grad: false);
        RegisterComponents();
    }

    /// <param name="x">[batch, n_in, h, w]</param>
    /// <returns>[batch, n_out, h, w]</returns>
    public override Tensor forward(Tensor x) => AlignedConv2d.Convolve(x, w, b, stride: 1, padding: (KernelWidth - 1) / 2);
}
