using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// Numbers the forward pass hands to libtorch on every call, as native Scalars that live for the whole process, and
/// the residual sum written with them. TorchSharp makes a fresh finalizable Scalar for each number passed to an op
/// (<c>x + y</c> passes alpha = 1) and keeps no reference to it during the native call, so a garbage collection
/// triggered by another thread (the data loader allocates constantly) can free it mid-op: we saw a training run die
/// with "Expected false to be true" from <c>Scalar::toFloat</c> inside <c>add</c> after 700 steps. Forward passes
/// therefore write a sum as <see cref="Plus"/>, never <c>+</c>.
/// </summary>
public static class KeptScalars
{
    /// <summary>
    /// The alpha of an addition: the integer 1 TorchSharp passes itself in <c>add(x)</c>, because libtorch refuses a
    /// floating-point alpha for an integer tensor ("argument alpha must not be a floating point number") and gives the
    /// same sums as 1.0 for a floating one.
    /// </summary>
    internal static readonly Scalar One = 1;

    /// <summary>The exponent of <see cref="Squared"/>: the integer 2 TorchSharp's <c>square()</c> passes to <c>pow</c>.</summary>
    static readonly Scalar Two = 2;

    /// <summary><c>x²</c> as TorchSharp's <c>square()</c> computes it (<c>pow(2)</c>), with the exponent held: <c>square()</c> makes a temporary.</summary>
    public static Tensor Squared(this Tensor x) => x.pow(Two);

    /// <summary>QuickGELU's slope: x · sigmoid(1.702 x).</summary>
    internal static readonly Scalar QuickGeluSlope = 1.702;

    /// <summary><c>x + y</c> (broadcasting) as a new tensor, with an alpha that cannot be finalised mid-op.</summary>
    public static Tensor Plus(this Tensor x, Tensor y) => x.add(y, One);

    /// <summary>
    /// <c>torch.arange(start, stop)</c>, step 1, with its three Scalars held for the call: <c>torch.arange(n)</c> makes
    /// three temporaries (start 0 and step 1 inside TorchSharp, <c>n</c> at the call). int64 unless
    /// <paramref name="dtype"/> says otherwise, as arange of integers.
    /// </summary>
    public static Tensor Range(long start, long stop, ScalarType? dtype = null, Device? device = null)
    {
        using Scalar from = start, to = stop;
        return torch.arange(from, to, One, dtype, device);
    }

    /// <summary><c>x += y</c> in place (returns <paramref name="x"/>), with an alpha that cannot be finalised mid-op.</summary>
    public static Tensor PlusInPlace(this Tensor x, Tensor y) => x.add_(y, One);
}
