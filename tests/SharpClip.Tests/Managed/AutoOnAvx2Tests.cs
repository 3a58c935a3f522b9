using SharpClip.Managed;
using SharpClip.Onnx;
using SharpClip.Pipelines;
using SharpClip.Tests.Infrastructure;

namespace SharpClip.Tests.Managed;

/// <summary>
/// <c>auto</c> on a CPU with AVX2 but no AVX-512: ResNets on the managed engine, Vision Transformers on ONNX Runtime
/// (<see cref="ClipPipeline"/>'s measured reasons). The kernel is switched to AVX2's for the test on an AVX-512 CPU.
/// </summary>
[Collection(KernelWidthScope.Collection)]
public class AutoOnAvx2Tests
{
    [Fact]
    public void ResNetsRunManagedAndVisionTransformersOnnx()
    {
        if (!KernelWidthScope.Runnable.Contains(KernelWidth.Avx2)) return; // no AVX2: OnnxEngineTests checks the refusal path
        using var kernel = new KernelWidthScope(KernelWidth.Avx2);
        foreach (bool visionTransformer in new[] { true, false })
        {
            var weights = Fixtures.PathOf(Fixtures.Entry("models", Fixtures.FirstModel(visionTransformer)).GetProperty("weights").GetString()!);
            using var pipeline = ClipPipeline.Load(weights, new ClipPipelineOptions { Engine = InferenceEngine.Auto });
            if (visionTransformer)
            {
                Assert.IsType<OnnxClipEncoder>(pipeline.Encoder);
                Assert.Contains("without AVX-512", pipeline.EngineDescription);
            }
            else
            {
                Assert.IsType<ManagedClipEncoder>(pipeline.Encoder);
                Assert.Contains("AVX2", pipeline.EngineDescription);
            }
        }
    }
}
