using TorchSharp;

namespace SharpClip.Modeling;

/// <summary>
/// Numbers the forward pass hands to libtorch on every call, as native Scalars that live for the whole process.
/// TorchSharp makes a fresh finalizable Scalar for each number passed to an op (<c>x + y</c> passes alpha = 1) and
/// keeps no reference to it during the native call, so a garbage collection triggered by another thread (the data
/// loader allocates constantly) can free it mid-op: we saw a training run die with "Expected false to be true" from
/// <c>Scalar::toFloat</c> inside <c>add</c> after 700 steps. The hot path uses these instead.
/// </summary>
internal static class KeptScalars
{
    public static readonly Scalar One = 1.0;

    /// <summary>QuickGELU's slope: x · sigmoid(1.702 x).</summary>
    public static readonly Scalar QuickGeluSlope = 1.702;
}
