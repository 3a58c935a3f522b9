using SharpClip.Managed;
using SharpClip.Modeling;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using Xunit.Abstractions;

namespace SharpClip.Tests.Managed;

/// <summary>
/// <see cref="EngineParity"/>'s fidelity checks on the managed engine, at 1, 2 and 3 threads: every <c>models</c> entry
/// of the fixture manifest (Vision Transformers and ModifiedResNets) against openai/CLIP's own outputs. On a CPU without
/// AVX-512 the engine must refuse with the reason instead.
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
        if (!Runnable(model, id)) return;
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
        if (!Runnable(model, id)) return;
        using var managed = new ManagedClipEncoder(model);
        EngineParity.ZeroShot(managed, reference, $"{id} managed");
    }

    /// <summary>True for a model the engine runs here; otherwise checks the refusal names the reason and returns false.</summary>
    bool Runnable(ClipModel model, string id)
    {
        if (ManagedClipEncoder.CanRun(model, out var reason))
        {
            Assert.True(MatrixKernel.IsSupported);
            return true;
        }
        Assert.False(MatrixKernel.IsSupported);
        Assert.Contains("AVX-512", reason);
        var e = Assert.Throws<NotSupportedException>(() => new ManagedClipEncoder(model));
        Assert.Contains(reason, e.Message);
        output.WriteLine($"{id}: refused as expected ({reason})");
        return false;
    }
}
