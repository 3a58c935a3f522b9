using SharpClip.Modeling;
using SharpClip.Onnx;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using SharpClip.ZeroShot;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpClip.Tests.Onnx;

/// <summary>
/// The fidelity checks of <see cref="ModelParityTests"/> run on the ONNX Runtime engine: every <c>models</c> entry of the
/// fixture manifest (the reference set and tests/fixtures/clip-extra: ViTs, ModifiedResNets with odd channel counts, a
/// 3-head ViT) through the graphs SharpClip writes, against the reference's own outputs with the same bars.
/// </summary>
[Trait("Category", "Fidelity")]
public class OnnxEngineParityTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    const double FeatureTolerance = 1e-4;
    const double LogitTolerance = 1e-3;
    const double ZeroShotTolerance = 1e-4;

    [Theory, MemberData(nameof(Models))]
    public void FeaturesAndLogitsMatchTheReference(string id)
    {
        using var reference = new ReferenceModel(id);
        using var model = ClipModel.Load(reference.WeightsPath);
        using var onnx = new OnnxClipEncoder(model);
        using var scope = torch.NewDisposeScope();
        var pixels = reference.Tensor("eval", "pixel_values");
        var ids = reference.Tensor("eval", "input_ids");

        var image = onnx.EmbedImages(pixels, normalize: false);
        TensorAssert.Close(reference.Tensor("eval", "image_features"), image, FeatureTolerance, $"{id} onnx image_features");
        var text = onnx.EmbedTexts(ids, normalize: false, trimPadding: false);
        TensorAssert.Close(reference.Tensor("eval", "text_features"), text, FeatureTolerance, $"{id} onnx text_features (all positions)");
        var trimmed = onnx.EmbedTexts(ids, normalize: false);
        TensorAssert.Close(reference.Tensor("eval", "text_features"), trimmed, FeatureTolerance, $"{id} onnx text_features (padding trimmed)");

        // The figures behind the bars, for both engines (visible with --logger "console;verbosity=detailed").
        using (torch.inference_mode())
            output.WriteLine($"{id}: image max|Δ|/max|ref| onnx {Relative(reference.Tensor("eval", "image_features"), image):E2}, " +
                             $"torch {Relative(reference.Tensor("eval", "image_features"), model.EncodeImages(pixels)):E2}; " +
                             $"text onnx {Relative(reference.Tensor("eval", "text_features"), text):E2}, " +
                             $"torch {Relative(reference.Tensor("eval", "text_features"), model.EncodeTexts(ids)):E2}");

        var perImage = model.Similarity(image, text);
        TensorAssert.Close(reference.Tensor("eval", "logits_per_image"), perImage, LogitTolerance, $"{id} onnx logits_per_image");
        TensorAssert.Close(reference.Tensor("eval", "logits_per_text"), perImage.t(), LogitTolerance, $"{id} onnx logits_per_text");

        // The engine's normalised embeddings, as the pipeline uses them.
        TensorAssert.Close(Embeddings.L2Normalize(reference.Tensor("eval", "image_features")), onnx.EmbedImages(pixels), FeatureTolerance, $"{id} onnx EmbedImages");
        TensorAssert.Close(Embeddings.L2Normalize(reference.Tensor("eval", "text_features")), onnx.EmbedTexts(ids), FeatureTolerance, $"{id} onnx EmbedTexts");
    }

    static double Relative(Tensor expected, Tensor actual) =>
        (actual - expected).abs().max().item<float>() / expected.abs().max().item<float>();

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
        using var scope = torch.NewDisposeScope();
        var zs = reference.Section("zero_shot");
        var classNames = zs.GetProperty("classnames").EnumerateArray().Select(e => e.GetString()!).ToList();
        using var classifier = ZeroShotClassifier.FromTokenIds(onnx, reference.Tensor("zero_shot", "input_ids"), classNames.Count, classNames, batchSize: 4);
        TensorAssert.Close(reference.Tensor("zero_shot", "weights"), classifier.Weights, ZeroShotTolerance, $"{id} onnx zero-shot weights");
        var probs = classifier.Predict(onnx.EmbedImages(reference.Tensor("eval", "pixel_values")));
        TensorAssert.Close(reference.Tensor("zero_shot", "probs"), probs, ZeroShotTolerance, $"{id} onnx zero-shot probs from onnx features");
    }
}
