using SharpClip.Managed;
using SharpClip.Modeling;
using SharpClip.Pipelines;
using SharpClip.Runtime;
using SharpClip.Tests.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Managed;

/// <summary>
/// The managed engine at its edges: shapes the fixtures do not have (widths that are not whole kernel panels, more
/// than one inner block, GELU, batches split into chunks, rows left over after whole tiles), against the torch engine
/// on the same random weights; and how pipelines choose it and refuse it.
/// </summary>
public class ManagedEngineTests
{
    static string Weights(string id) => Fixtures.PathOf(Fixtures.Entry("models", id).GetProperty("weights").GetString()!);

    static string FirstOf(bool visionTransformer) => Fixtures.FirstModel(visionTransformer);

    /// <summary>
    /// Width 80 in heads of 16 or 20 (the value panel is part of a kernel panel), MLP 480 wide (two inner blocks of 240
    /// for its output projection, added to the residual), embed dim 40 (a last panel of 8 columns), 17 tokens per image and up
    /// to 20 per text, GELU. Everything the fixtures' ViT-B-shaped models never reach.
    /// </summary>
    static ClipModel OddModel(Activation activation, int visionHeadWidth = 16)
    {
        torch.manual_seed(7);
        var model = new ClipModel(new ClipConfig
        {
            EmbedDim = 40, ImageResolution = 32, VisionLayers = [2], VisionWidth = 80, VisionPatchSize = 8, VisionHeadWidth = visionHeadWidth, VisionMlpRatio = 6,
            ContextLength = 20, VocabSize = 300, TextWidth = 48, TextHeads = 3, TextLayers = 2, Activation = activation,
        });
        model.eval();
        return model;
    }

    /// <summary>True where the engine runs; on a CPU without AVX2 and FMA, checks the refusal names them and returns false.</summary>
    static bool Runs(ClipModel model)
    {
        if (MatrixKernel.IsSupported) return true;
        Assert.False(ManagedClipEncoder.CanRun(model, out var why));
        Assert.Contains("AVX2", why);
        return false;
    }

    static double Relative(Tensor expected, Tensor actual)
    {
        using var scope = torch.NewDisposeScope();
        return (actual - expected).abs().max().item<float>() / expected.abs().max().item<float>();
    }

    [Theory]
    [InlineData(Activation.Gelu, 16)]
    [InlineData(Activation.QuickGelu, 20)]   // 4 heads of 20: a head width that is no multiple of 16
    public void OddShapesGiveTheTorchEnginesFeatures(Activation activation, int visionHeadWidth)
    {
        using var model = OddModel(activation, visionHeadWidth);
        if (!Runs(model)) return;
        using var managed = new ManagedClipEncoder(model, threads: 2);
        using var scope = torch.NewDisposeScope();
        // 21 images: one chunk of 16 and one of 5; 17 tokens each, so 272 and 85 rows (whole tiles and a partial one).
        var pixels = torch.randn(21, 3, 32, 32);
        Assert.True(Relative(model.EmbedImages(pixels, normalize: false), managed.EmbedImages(pixels, normalize: false)) < 1e-5, "image features");

        // 19 captions of 2..20 tokens (end id 299 the largest), chunks of 8 each trimmed to its own longest caption.
        var rng = new Random(3);
        var ids = torch.zeros(19, 20, dtype: ScalarType.Int64);
        for (int t = 0; t < 19; t++)
        {
            int length = t + 2;
            ids[t, 0] = 298;
            for (int j = 1; j < length - 1; j++) ids[t, j] = rng.Next(1, 298);
            ids[t, length - 1] = 299;
        }
        foreach (bool trim in new[] { false, true })
            Assert.True(Relative(model.EmbedTexts(ids, normalize: false, trimPadding: false), managed.EmbedTexts(ids, normalize: false, trimPadding: trim)) < 1e-5,
                $"text features, padding trimmed: {trim}");
        // int32 ids are the same ids
        Assert.True(Relative(model.EmbedTexts(ids), managed.EmbedTexts(ids.to(ScalarType.Int32))) < 1e-5, "int32 ids");
    }

    [Fact]
    public void AnyThreadCountGivesTheSameBits()
    {
        using var model = OddModel(Activation.QuickGelu);
        if (!Runs(model)) return;
        using var scope = torch.NewDisposeScope();
        var pixels = torch.randn(5, 3, 32, 32);
        var ids = torch.tensor(new long[] { 298, 5, 6, 7, 299, 0, 298, 299, 0, 0, 0, 0 }, [2, 6]);
        using var one = new ManagedClipEncoder(model, threads: 1);
        using var three = new ManagedClipEncoder(model, threads: 3);
        Assert.Equal(0f, (one.EmbedImages(pixels) - three.EmbedImages(pixels)).abs().max().item<float>());
        Assert.Equal(0f, (one.EmbedTexts(ids) - three.EmbedTexts(ids)).abs().max().item<float>());
    }

    [Fact]
    public void EmbeddingsLeaveNoTensorsBehindAndEmptyBatchesKeepShapes()
    {
        using var model = OddModel(Activation.QuickGelu);
        if (!Runs(model)) return;
        using var managed = new ManagedClipEncoder(model);
        using var pixels = torch.randn(2, 3, 32, 32);
        using var ids = torch.tensor(new long[] { 298, 22, 299, 0, 298, 299, 0, 0 }, [2, 4]);
        using (managed.EmbedImages(pixels)) { } // builds both towers
        using (managed.EmbedTexts(ids)) { }
        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (var image = managed.EmbedImages(pixels))
        using (var text = managed.EmbedTexts(ids))
        using (var none = torch.zeros(0, 3, 32, 32))
        using (var empty = managed.EmbedImages(none))
        using (var noIds = torch.zeros(0, 4, dtype: ScalarType.Int64))
        using (var noTexts = managed.EmbedTexts(noIds))
        {
            Assert.Equal([2L, 40], image.shape);
            Assert.Equal([2L, 40], text.shape);
            Assert.Equal([0L, 40], empty.shape);
            Assert.Equal([0L, 40], noTexts.shape);
        }
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void BadInputsAreOneClearErrorEach()
    {
        using var model = OddModel(Activation.QuickGelu);
        if (!Runs(model)) return;
        using var managed = new ManagedClipEncoder(model);
        using var outside = torch.tensor(new long[] { 298, 300, 299 }, [1, 3]);
        Assert.Contains("token id 300", Assert.Throws<ArgumentException>(() => managed.EmbedTexts(outside)).Message);
        using var negative = torch.tensor(new long[] { -1, 5, 299 }, [1, 3]);
        Assert.Contains("token id -1", Assert.Throws<ArgumentException>(() => managed.EmbedTexts(negative)).Message);
        using var small = torch.randn(1, 3, 16, 16);
        Assert.Contains("32×32", Assert.Throws<ArgumentException>(() => managed.EmbedImages(small)).Message);
        using var tooLong = torch.zeros(1, 21, dtype: ScalarType.Int64);
        Assert.Contains("context length", Assert.Throws<ArgumentException>(() => managed.EmbedTexts(tooLong)).Message);
        managed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => managed.EmbedImages(torch.randn(1, 3, 32, 32)));
    }

    [Fact]
    public void OneModelSharesOneEncoderUntilItIsDisposed()
    {
        using var model = ClipModel.Load(Weights(FirstOf(visionTransformer: true)));
        if (!Runs(model)) return;
        var first = ManagedClipEncoder.For(model);
        Assert.Same(first, ManagedClipEncoder.For(model));
        first.Dispose();
        using var second = ManagedClipEncoder.For(model);
        Assert.NotSame(first, second);
    }

    [Fact]
    public void PipelinesAskingForTheManagedEngineGetItOrOneClearError()
    {
        Assert.Equal(InferenceEngine.Managed, ClipPipelineOptions.ParseEngine("Managed"));
        using (var vit = ClipPipeline.Load(Weights(FirstOf(visionTransformer: true)), new ClipPipelineOptions { Engine = InferenceEngine.Managed }))
        {
            if (MatrixKernel.IsSupported)
            {
                Assert.IsType<ManagedClipEncoder>(vit.Encoder);
                Assert.Equal("managed (asked for)", vit.EngineDescription);
            }
        }
        if (MatrixKernel.IsSupported)
        {
            using var resnet = ClipPipeline.Load(Weights(FirstOf(visionTransformer: false)), new ClipPipelineOptions { Engine = InferenceEngine.Managed });
            Assert.IsType<ManagedClipEncoder>(resnet.Encoder);
        }
        else
        {
            var refused = Assert.Throws<ArgumentException>(() =>
                ClipPipeline.Load(Weights(FirstOf(visionTransformer: false)), new ClipPipelineOptions { Engine = InferenceEngine.Managed }));
            Assert.Contains("engine managed:", refused.Message);
            Assert.Contains("AVX2", refused.Message);
        }
        var int8 = Assert.Throws<ArgumentException>(() => ClipPipeline.Load(Weights(FirstOf(visionTransformer: true)),
            new ClipPipelineOptions { Engine = InferenceEngine.Managed, Precision = Precision.Int8 }));
        Assert.Contains("precision int8 runs on the onnx engine only", int8.Message);
        var bf16 = Assert.Throws<ArgumentException>(() => ClipPipeline.Load(Weights(FirstOf(visionTransformer: true)),
            new ClipPipelineOptions { Engine = InferenceEngine.Managed, Precision = Precision.BFloat16 }));
        Assert.Contains("float32", bf16.Message);
    }
}
