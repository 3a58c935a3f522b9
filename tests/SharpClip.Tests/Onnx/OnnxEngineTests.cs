using SharpClip.Modeling;
using SharpClip.Onnx;
using SharpClip.Pipelines;
using SharpClip.Runtime;
using SharpClip.Tests.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Onnx;

/// <summary>How pipelines pick the ONNX engine and how the engine behaves at its edges.</summary>
public class OnnxEngineTests
{
    static string Weights(string id) => Fixtures.PathOf(Fixtures.Entry("models", id).GetProperty("weights").GetString()!);

    static string FirstModel => (string)Fixtures.Ids("models").First()[0];

    [Fact]
    public void AutoRunsFloat32OnTheFastestEngineThatCanAndBf16OnTorch()
    {
        // A ViT or a ModifiedResNet runs on the managed engine where the CPU has AVX-512, a ResNet also with AVX2 only
        // (measured faster than the onnx engine there: bench … engines, embed), on ONNX Runtime elsewhere, saying why
        // (AutoOnAvx2Tests switches the kernel to check the AVX2 choice on an AVX-512 CPU).
        foreach (bool visionTransformer in new[] { true, false })
        {
            using var fp32 = ClipPipeline.Load(Weights(Fixtures.FirstModel(visionTransformer)), new ClipPipelineOptions { Engine = InferenceEngine.Auto });
            if (SharpClip.Managed.ManagedClipEncoder.CanRun(fp32.Model, out var why)
                && (SharpClip.Managed.MatrixKernel.Width == SharpClip.Managed.KernelWidth.Avx512 || !visionTransformer))
            {
                Assert.IsType<SharpClip.Managed.ManagedClipEncoder>(fp32.Encoder);
                Assert.StartsWith("managed (auto", fp32.EngineDescription);
                Assert.Contains(SharpClip.Managed.MatrixKernel.Width == SharpClip.Managed.KernelWidth.Avx512 ? "AVX-512" : "AVX2", fp32.EngineDescription);
            }
            else
            {
                Assert.IsType<OnnxClipEncoder>(fp32.Encoder);
                Assert.StartsWith("onnx (auto", fp32.EngineDescription);
                if (why.Length > 0) Assert.Contains(why, fp32.EngineDescription);
                else Assert.Contains("without AVX-512", fp32.EngineDescription);
            }
        }
        using var bf16 = ClipPipeline.Load(Weights(FirstModel), new ClipPipelineOptions { Engine = InferenceEngine.Auto, Precision = Precision.BFloat16 });
        Assert.Same(bf16.Model, bf16.Encoder);
        Assert.Contains("BFloat16", bf16.EngineDescription);
    }

    [Fact]
    public void AskingForOnnxWithBf16IsOneClearError()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            ClipPipeline.Load(Weights(FirstModel), new ClipPipelineOptions { Engine = InferenceEngine.Onnx, Precision = Precision.BFloat16 }));
        Assert.Contains("engine onnx", e.Message);
        Assert.Contains("float32", e.Message);
    }

    [Fact]
    public void TheTorchEngineIsTheModelItself()
    {
        using var pipeline = ClipPipeline.Load(Weights(FirstModel), new ClipPipelineOptions { Engine = InferenceEngine.Torch });
        Assert.Same(pipeline.Model, pipeline.Encoder);
    }

    [Fact]
    public void OneModelSharesOneEncoderUntilItIsDisposed()
    {
        using var model = ClipModel.Load(Weights(FirstModel));
        var first = OnnxClipEncoder.For(model);
        Assert.Same(first, OnnxClipEncoder.For(model));
        first.Dispose();
        using var second = OnnxClipEncoder.For(model);
        Assert.NotSame(first, second);
        Assert.Throws<ObjectDisposedException>(() => first.EmbedTexts(torch.zeros(1, 4, dtype: ScalarType.Int64)));
    }

    [Theory, MemberData(nameof(ModelIds))]
    public void EmbeddingsLeaveNoTensorsBehindAndKeepShapes(string id)
    {
        using var model = ClipModel.Load(Weights(id));
        using var onnx = new OnnxClipEncoder(model);
        int r = model.Config.ImageResolution;
        using var pixels = torch.randn(2, 3, r, r);
        using var ids = torch.tensor(new long[] { 49406, 320, 2368, 49407, 0, 0, 49406, 49407, 0, 0, 0, 0 }, [2, 6]);
        using (onnx.EmbedImages(pixels)) { } // warm: builds both sessions
        using (onnx.EmbedTexts(ids)) { }
        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (var image = onnx.EmbedImages(pixels))
        using (var text = onnx.EmbedTexts(ids))
        using (var none = torch.zeros(0, 3, r, r))
        using (var empty = onnx.EmbedImages(none))
        {
            Assert.Equal([2L, model.Config.EmbedDim], image.shape);
            Assert.Equal([2L, model.Config.EmbedDim], text.shape);
            Assert.Equal([0L, model.Config.EmbedDim], empty.shape);
            Assert.Equal(ScalarType.Float32, image.dtype);
        }
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    public static IEnumerable<object[]> ModelIds => Fixtures.Ids("models");

    /// <summary>
    /// A batch larger than the chunk size runs as several ONNX Runtime runs, captions trimmed per chunk: the features are
    /// those of the whole batch in one run (each row depends on its own input alone), up to float32 rounding, since a
    /// matrix product may block its sums differently for a different number of rows.
    /// </summary>
    [Theory, MemberData(nameof(ModelIds))]
    public void ABatchRunInChunksGivesTheFeaturesOfOneRun(string id)
    {
        using var model = ClipModel.Load(Weights(id));
        using var whole = new OnnxClipEncoder(model, new OnnxEngineOptions { ImageChunk = int.MaxValue, TextChunk = int.MaxValue });
        using var chunked = new OnnxClipEncoder(model, new OnnxEngineOptions { ImageChunk = 2, TextChunk = 2 });
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(14);
        int r = model.Config.ImageResolution;
        var pixels = torch.randn(5, 3, r, r);
        // start, words, end, padding: end tokens at 3, 9, 4, 12 and 6, so the chunks trim to 10, 13 and 7 positions, the whole batch to 13
        int context = model.Config.ContextLength;
        long[] ends = [3, 9, 4, 12, 6];
        var values = new long[ends.Length * context];
        for (int row = 0; row < ends.Length; row++)
        {
            values[row * context] = 49406;
            for (long t = 1; t < ends[row]; t++) values[row * context + t] = 300 + 37 * row + t;
            values[row * context + ends[row]] = 49407;
        }
        var ids = torch.tensor(values, [ends.Length, context]);
        AssertChunkedMatches(whole.EmbedImages(pixels, normalize: false), chunked.EmbedImages(pixels, normalize: false), $"{id} images");
        AssertChunkedMatches(whole.EmbedTexts(ids, normalize: false), chunked.EmbedTexts(ids, normalize: false), $"{id} texts (trimmed)");
        AssertChunkedMatches(whole.EmbedTexts(ids, normalize: false, trimPadding: false), chunked.EmbedTexts(ids, normalize: false, trimPadding: false),
            $"{id} texts (all positions)");
    }

    static void AssertChunkedMatches(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        double diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= ChunkTolerance * expected.abs().max().item<float>(), $"{what}: chunked differs from one run by {diff:E2}");
    }

    /// <summary>Relative to the largest feature: float32 rounding, far below a row moved or computed from another row's input.</summary>
    const double ChunkTolerance = 1e-6;

    [Fact]
    public void BadInputsAreRefusedAsTheTorchPathRefusesThem()
    {
        using var model = ClipModel.Load(Weights(FirstModel));
        using var onnx = new OnnxClipEncoder(model);
        int r = model.Config.ImageResolution;
        Assert.Contains("this model takes", Assert.Throws<ArgumentException>(() => onnx.EmbedImages(torch.zeros(1, 3, r + 1, r + 1))).Message);
        Assert.Contains("context length", Assert.Throws<ArgumentException>(() =>
            onnx.EmbedTexts(torch.zeros(1, model.Config.ContextLength + 1, dtype: ScalarType.Int64))).Message);
        Assert.Contains("int64 or int32", Assert.Throws<ArgumentException>(() => onnx.EmbedTexts(torch.zeros(1, 4))).Message);
    }

    [Fact]
    public void ATensorTheWriterDoesNotKnowIsRefusedByName()
    {
        using var scope = torch.NewDisposeScope();
        var state = new Dictionary<string, Tensor> { ["visual.proj"] = torch.zeros(2, 2), ["visual.new_gate"] = torch.zeros(2) };
        var weights = new TowerWeights(state, k => k.StartsWith("visual.", StringComparison.Ordinal), "m.safetensors");
        _ = weights["visual.proj"];
        var e = Assert.Throws<NotSupportedException>(() => weights.RequireAllUsed("image"));
        Assert.Contains("m.safetensors", e.Message);
        Assert.Contains("visual.new_gate", e.Message);
    }
}
