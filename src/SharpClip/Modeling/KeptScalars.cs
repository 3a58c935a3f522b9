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
    internal static readonly Scalar One = 1.0;

    /// <summary>QuickGELU's slope: x · sigmoid(1.702 x).</summary>
    internal static readonly Scalar QuickGeluSlope = 1.702;

    /// <summary><c>x + y</c> (broadcasting) as a new tensor, with an alpha that cannot be finalised mid-op.</summary>
    public static Tensor Plus(this Tensor x, Tensor y) => x.add(y, One);

    /// <summary><c>x += y</c> in place (returns <paramref name="x"/>), with an alpha that cannot be finalised mid-op.</summary>
    public static Tensor PlusInPlace(this Tensor x, Tensor y) => x.add_(y, One);
}
