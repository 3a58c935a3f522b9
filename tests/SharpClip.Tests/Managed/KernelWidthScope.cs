using SharpClip.Managed;

namespace SharpClip.Tests.Managed;

/// <summary>
/// Runs the managed engine's products with one micro-kernel until disposed, then restores the CPU's own. The width is
/// process-wide, so tests that set it share a collection that runs alone (other tests check bit-identical results
/// across thread counts, which a switch halfway through would break).
/// </summary>
public sealed class KernelWidthScope : IDisposable
{
    public const string Collection = "managed kernel width";

    readonly KernelWidth _previous = MatrixKernel.Width;

    internal KernelWidthScope(KernelWidth width) => MatrixKernel.Width = width;

    /// <summary>The widths this CPU runs: AVX2's wherever the engine runs at all, AVX-512's where the CPU has it.</summary>
    internal static IEnumerable<KernelWidth> Runnable =>
        new[] { KernelWidth.Avx512, KernelWidth.Avx2 }.Where(w => w == KernelWidth.Avx2 ? MatrixKernel.HasAvx2 : MatrixKernel.HasAvx512);

    public void Dispose() => MatrixKernel.Width = _previous;
}

[CollectionDefinition(KernelWidthScope.Collection, DisableParallelization = true)]
public sealed class KernelWidthCollection;
