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
    public void AutoRunsFloat32OnTheOnnxEngineAndBf16OnTorch()
    {
        using (var fp32 = ClipPipeline.Load(Weights(FirstModel), new ClipPipelineOptions { Engine = InferenceEngine.Auto }))
        {
            Assert.IsType<OnnxClipEncoder>(fp32.Encoder);
            Assert.StartsWith("onnx", fp32.EngineDescription);
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
