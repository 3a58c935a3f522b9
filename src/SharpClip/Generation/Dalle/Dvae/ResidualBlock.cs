using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Dalle.Dvae;

/// <summary>
/// The residual block both halves of the dVAE share: <c>id_path(x) + post_gain · res_path(x)</c>. <c>id_path</c> is
/// the identity, or a 1×1 <see cref="DvaeConv2d"/> where the width changes; <c>res_path</c> is four ReLU → conv pairs
/// through a bottleneck of n_out/4 channels (<see cref="EncoderBlock"/> and <see cref="DecoderBlock"/> differ only in
/// which of the four convolutions is the 1×1). <c>post_gain = 1 / n_layers²</c> (n_layers = groups × blocks per group)
/// keeps the residual stream's scale from growing with depth, so the network trains without normalisation layers.
/// </summary>
public abstract class ResidualBlock : ScopedModule
{
    readonly nn.Module<Tensor, Tensor> id_path;   // field names are the package's state-dict names
    readonly nn.Module<Tensor, Tensor> res_path;
    readonly Scalar _postGain; // held for the module's life: a Scalar finalised mid-op crashes libtorch (KeptScalars)

    /// <param name="name">Module name (the package's class name).</param>
    /// <param name="inChannels">n_in.</param>
    /// <param name="outChannels">n_out; a multiple of 4.</param>
    /// <param name="layerCount">n_layers: groups × blocks per group.</param>
    /// <param name="kernelWidths">The four convolutions' kernel widths.</param>
    protected ResidualBlock(string name, int inChannels, int outChannels, int layerCount, int[] kernelWidths) : base(name)
    {
        if (outChannels < 4 || outChannels % 4 != 0) throw new ArgumentOutOfRangeException(nameof(outChannels), $"block width {outChannels} is not a positive multiple of 4");
        int hidden = outChannels / 4;
        PostGain = 1.0 / ((double)layerCount * layerCount);
        _postGain = PostGain;
        id_path = inChannels != outChannels ? new DvaeConv2d(inChannels, outChannels, 1) : nn.Identity();
        res_path = nn.Sequential(
            ("relu_1", nn.ReLU()), ("conv_1", new DvaeConv2d(inChannels, hidden, kernelWidths[0])),
            ("relu_2", nn.ReLU()), ("conv_2", new DvaeConv2d(hidden, hidden, kernelWidths[1])),
            ("relu_3", nn.ReLU()), ("conv_3", new DvaeConv2d(hidden, hidden, kernelWidths[2])),
            ("relu_4", nn.ReLU()), ("conv_4", new DvaeConv2d(hidden, outChannels, kernelWidths[3])));
        RegisterComponents();
    }

    /// <summary>The residual branch's scale, 1 / n_layers².</summary>
    public double PostGain { get; }

    /// <param name="x">[batch, n_in, h, w]</param>
    /// <returns>[batch, n_out, h, w]</returns>
    protected override Tensor Compute(Tensor x) => id_path.forward(x).Plus(res_path.forward(x).mul(_postGain));

    protected override void Dispose(bool disposing)
    {
        if (disposing) _postGain.Dispose();
        base.Dispose(disposing);
    }
}
