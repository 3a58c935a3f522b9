using SharpClip.Modeling;
using SharpClip.Onnx;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpClip.Tests.Onnx;

/// <summary>
/// <see cref="EngineParity"/>'s fidelity checks on the ONNX Runtime engine (and its other ways of writing the graph): every <c>models</c> entry of the
/// fixture manifest (the reference set and tests/fixtures/clip-extra: ViTs, ModifiedResNets with odd channel counts, a
/// 3-head ViT) through the graphs SharpClip writes, against the reference's own outputs with the same bars.
/// </summary>
[Trait("Category", "Fidelity")]
public class OnnxEngineParityTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    const double FeatureTolerance = EngineParity.FeatureTolerance;

    [Theory, MemberData(nameof(Models))]
    public void FeaturesAndLogitsMatchTheReference(string id)
    {
        using var reference = new ReferenceModel(id);
        using var model = ClipModel.Load(reference.WeightsPath);
        using var onnx = new OnnxClipEncoder(model);
        EngineParity.FeaturesAndLogits(onnx, model, reference, $"{id} onnx", output);
    }

    [Theory, MemberData(nameof(Models))]
    public void FusedAttentionGivesTheReferenceFeaturesToo(string id)
    {
        using var reference = new ReferenceModel(id);
        using var model = ClipModel.Load(reference.WeightsPath);
        using var onnx = new OnnxClipEncoder(model, new OnnxEngineOptions { FusedAttention = true });
        using var scope = torch.NewDisposeScope();
        TensorAssert.Close(reference.Tensor("eval", "image_features"), onnx.EmbedImages(reference.Tensor("eval", "pixel_values"), normalize: false),
            FeatureTolerance, $"{id} onnx (fused attention) image_features");
        TensorAssert.Close(reference.Tensor("eval", "text_features"), onnx.EmbedTexts(reference.Tensor("eval", "input_ids"), normalize: false, trimPadding: false),
            FeatureTolerance, $"{id} onnx (fused attention) text_features");
    }

    /// <summary>The graph with ONNX Runtime's SkipLayerNormalization for each residual sum and LayerNorm, and the graph
    /// run one image and one caption at a time (each caption trimmed to its own end token).</summary>
    [Theory, MemberData(nameof(Models))]
    public void FusedResidualNormsAndOneRowPerRunGiveTheReferenceFeaturesToo(string id)
    {
        using var reference = new ReferenceModel(id);
        using var model = ClipModel.Load(reference.WeightsPath);
        using var scope = torch.NewDisposeScope();
        var pixels = reference.Tensor("eval", "pixel_values");
        var ids = reference.Tensor("eval", "input_ids");
        foreach (var (name, options) in new[]
        {
            ("SkipLayerNormalization", new OnnxEngineOptions { FusedResidualNorm = true }),
            ("one row per run", new OnnxEngineOptions { ImageChunk = 1, TextChunk = 1 }),
        })
        {
            using var onnx = new OnnxClipEncoder(model, options);
            TensorAssert.Close(reference.Tensor("eval", "image_features"), onnx.EmbedImages(pixels, normalize: false), FeatureTolerance, $"{id} onnx ({name}) image_features");
            TensorAssert.Close(reference.Tensor("eval", "text_features"), onnx.EmbedTexts(ids, normalize: false, trimPadding: false), FeatureTolerance,
                $"{id} onnx ({name}) text_features (all positions)");
            TensorAssert.Close(reference.Tensor("eval", "text_features"), onnx.EmbedTexts(ids, normalize: false), FeatureTolerance,
                $"{id} onnx ({name}) text_features (padding trimmed)");
        }
    }

    [Theory, MemberData(nameof(Models))]
    public void ZeroShotWeightsAndProbabilitiesMatchTheReference(string id)
    {
        using var reference = new ReferenceModel(id);
        using var model = ClipModel.Load(reference.WeightsPath);
        using var onnx = new OnnxClipEncoder(model);
        EngineParity.ZeroShot(onnx, reference, $"{id} onnx");
    }
}
