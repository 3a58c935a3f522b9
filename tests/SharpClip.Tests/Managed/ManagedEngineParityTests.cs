using SharpClip.Managed;
using SharpClip.Modeling;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using Xunit.Abstractions;

namespace SharpClip.Tests.Managed;

/// <summary>
/// <see cref="EngineParity"/>'s fidelity checks on the managed engine, at 1, 2 and 3 threads: every <c>models</c> entry
/// of the fixture manifest (Vision Transformers and ModifiedResNets) against openai/CLIP's own outputs, with the CPU's
/// own micro-kernel (<see cref="Avx2KernelParityTests"/> runs AVX2's on an AVX-512 CPU). On a CPU without AVX2 and FMA
/// the engine must refuse with the reason instead.
/// </summary>
[Trait("Category", "Fidelity")]
public class ManagedEngineParityTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    [Theory, MemberData(nameof(Models))]
    public void FeaturesAndLogitsMatchTheReference(string id)
    {
        using var reference = new ReferenceModel(id);
        using var model = ClipModel.Load(reference.WeightsPath);
        if (!Runnable(model, id, output)) return;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var managed = new ManagedClipEncoder(model, threads);
            EngineParity.FeaturesAndLogits(managed, model, reference, $"{id} managed ({threads} threads)", output);
        }
    }

    [Theory, MemberData(nameof(Models))]
    public void ZeroShotWeightsAndProbabilitiesMatchTheReference(string id)
    {
        using var reference = new ReferenceModel(id);
        using var model = ClipModel.Load(reference.WeightsPath);
        if (!Runnable(model, id, output)) return;
        using var managed = new ManagedClipEncoder(model);
        EngineParity.ZeroShot(managed, reference, $"{id} managed");
    }

    /// <summary>True for a model the engine runs here; otherwise checks the refusal names the reason and returns false.</summary>
    internal static bool Runnable(ClipModel model, string id, ITestOutputHelper output)
    {
        if (ManagedClipEncoder.CanRun(model, out var reason))
        {
            Assert.True(MatrixKernel.IsSupported);
            return true;
        }
        Assert.False(MatrixKernel.IsSupported);
        Assert.Contains("AVX2", reason);
        var e = Assert.Throws<NotSupportedException>(() => new ManagedClipEncoder(model));
        Assert.Contains(reason, e.Message);
        output.WriteLine($"{id}: refused as expected ({reason})");
        return false;
    }
}

/// <summary>
/// The fixture models' features, logits and zero-shot results through the AVX2 micro-kernel, which AVX2-only CPUs run:
/// on an AVX-512 CPU the kernel is switched for the test (the engine's other ops run as the runtime compiles them;
/// CI also runs the managed tests with <c>DOTNET_EnableAVX512=0</c>, which hides AVX-512 from all of them).
/// </summary>
[Trait("Category", "Fidelity")]
[Collection(KernelWidthScope.Collection)]
public class Avx2KernelParityTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    [Theory, MemberData(nameof(Models))]
    public void FeaturesLogitsAndZeroShotMatchTheReference(string id)
    {
        using var reference = new ReferenceModel(id);
        using var model = ClipModel.Load(reference.WeightsPath);
        if (!ManagedEngineParityTests.Runnable(model, id, output)) return;
        using var kernel = new KernelWidthScope(KernelWidth.Avx2);
        using var managed = new ManagedClipEncoder(model, threads: 2);
        EngineParity.FeaturesAndLogits(managed, model, reference, $"{id} managed, AVX2 kernel", output);
        EngineParity.ZeroShot(managed, reference, $"{id} managed, AVX2 kernel");
    }
}
