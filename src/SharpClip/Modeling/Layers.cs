using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// The weighted layers the models are built from — PyTorch's <c>Linear</c> and <c>Conv2d</c> and free-standing
/// parameters, with PyTorch's tensors, keys and initialisation — made in one place so that a model built for loading
/// (<see cref="UninitializedWeights"/>) allocates their weights without drawing them.
/// </summary>
/// <remarks>
/// Outside <see cref="UninitializedWeights.Build{T}"/> each factory is the plain TorchSharp call, so a model built for
/// training draws the same random numbers in the same order as before. Inside it, a layer gets uninitialised CPU
/// storage of the same shapes: <c>Linear</c> from given parameters, and a convolution, whose constructor always
/// initialises, is built on the meta device (where initialisation is free: there is no data) and its weight and bias
/// swapped for CPU storage through their public setters.
/// <para><c>nn.Embedding</c> is not here. TorchSharp 0.107's is libtorch's own module, whose native constructor draws the
/// table on the CPU whatever device is asked for, and whose <c>from_pretrained</c> builds (and draws) a table, registers
/// it, and only then points the module's forward at the given one: the state dict and the forward would then be two
/// different tables. So token tables keep their N(0, 1) draw (SD 1.5: 38 M of its 1.07 G weights).</para>
/// </remarks>
internal static class Layers
{
    /// <summary><c>nn.Linear</c>: weight [out, in], bias [out].</summary>
    public static Linear Linear(long inFeatures, long outFeatures, bool hasBias = true) =>
        UninitializedWeights.Active
            ? nn.Linear(Empty(outFeatures, inFeatures), hasBias ? Empty(outFeatures) : null)
            : nn.Linear(inFeatures, outFeatures, hasBias);

    /// <summary><c>nn.Conv2d</c> with a square kernel: weight [out, in, k, k], bias [out].</summary>
    public static Conv2d Conv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, bool bias = true)
    {
        if (!UninitializedWeights.Active)
            return nn.Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding, bias: bias);
        var conv = nn.Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding, bias: bias, device: MetaWhileUninitialized);
        ToUninitializedCpu(conv);
        return conv;
    }

    /// <summary>A parameter of its own (a positional embedding, a projection matrix) drawn by <paramref name="initialise"/>.</summary>
    /// <param name="shape">Its shape; <paramref name="initialise"/> must return a tensor of this shape.</param>
    /// <param name="initialise">The reference's initialisation, skipped in a model built for loading.</param>
    /// <param name="requiresGrad">Whether training updates it.</param>
    public static Parameter Parameter(long[] shape, Func<Tensor> initialise, bool requiresGrad = true) =>
        new(UninitializedWeights.Active ? torch.empty(shape) : initialise(), requiresGrad);

    /// <summary>The device a convolution is constructed on: the meta device inside a build for loading, else the default.</summary>
    internal static Device? MetaWhileUninitialized => UninitializedWeights.Active ? torch.META : null;

    /// <summary>Swaps a convolution's weight and bias (built on the meta device) for uninitialised CPU storage of the same shapes.</summary>
    internal static void ToUninitializedCpu(Convolution conv)
    {
        conv.weight = Empty(conv.weight.shape);   // the setters dispose the meta tensors and register the new ones
        if (conv.bias is { } bias) conv.bias = Empty(bias.shape);
    }

    static Parameter Empty(params long[] shape) => new(torch.empty(shape));
}
