using SharpClip.Modeling;
using SharpClip.Tests.Infrastructure;
using SharpClip.ZeroShot;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpClip.Tests.Modeling;

/// <summary>
/// The fidelity checks of <see cref="ModelParityTests"/> for an engine other than the model's own modules: the same
/// fixture outputs of openai/CLIP, the same bars, through <see cref="IClipEncoder"/> only — so every engine is held to
/// exactly the same checks.
/// </summary>
internal static class EngineParity
{
    public const double FeatureTolerance = 1e-4;
    public const double LogitTolerance = 1e-3;
    public const double ZeroShotTolerance = 1e-4;

    /// <summary>Image and text features (all positions and padding trimmed), logits, and the normalised embeddings.</summary>
    public static void FeaturesAndLogits(IClipEncoder engine, ClipModel model, ReferenceModel reference, string label, ITestOutputHelper? output = null)
    {
        using var scope = torch.NewDisposeScope();
        var pixels = reference.Tensor("eval", "pixel_values");
        var ids = reference.Tensor("eval", "input_ids");
        var expectedImage = reference.Tensor("eval", "image_features");
        var expectedText = reference.Tensor("eval", "text_features");

        var image = engine.EmbedImages(pixels, normalize: false);
        TensorAssert.Close(expectedImage, image, FeatureTolerance, $"{label} image_features");
        var text = engine.EmbedTexts(ids, normalize: false, trimPadding: false);
        TensorAssert.Close(expectedText, text, FeatureTolerance, $"{label} text_features (all positions)");
        TensorAssert.Close(expectedText, engine.EmbedTexts(ids, normalize: false), FeatureTolerance, $"{label} text_features (padding trimmed)");
        // The figures behind the bars (visible with --logger "console;verbosity=detailed").
        output?.WriteLine($"{label}: image max|Δ|/max|ref| {Relative(expectedImage, image):E2}, text {Relative(expectedText, text):E2}");

        var perImage = model.Similarity(image, text);
        TensorAssert.Close(reference.Tensor("eval", "logits_per_image"), perImage, LogitTolerance, $"{label} logits_per_image");
        TensorAssert.Close(reference.Tensor("eval", "logits_per_text"), perImage.t(), LogitTolerance, $"{label} logits_per_text");
        TensorAssert.Close(Embeddings.L2Normalize(expectedImage), engine.EmbedImages(pixels), FeatureTolerance, $"{label} EmbedImages");
        TensorAssert.Close(Embeddings.L2Normalize(expectedText), engine.EmbedTexts(ids), FeatureTolerance, $"{label} EmbedTexts");
    }

    /// <summary>Zero-shot class weights from the engine's text features and probabilities from its image features.</summary>
    public static void ZeroShot(IClipEncoder engine, ReferenceModel reference, string label)
    {
        using var scope = torch.NewDisposeScope();
        var classNames = reference.Section("zero_shot").GetProperty("classnames").EnumerateArray().Select(e => e.GetString()!).ToList();
        using var classifier = ZeroShotClassifier.FromTokenIds(engine, reference.Tensor("zero_shot", "input_ids"), classNames.Count, classNames, batchSize: 4);
        TensorAssert.Close(reference.Tensor("zero_shot", "weights"), classifier.Weights, ZeroShotTolerance, $"{label} zero-shot weights");
        var probs = classifier.Predict(engine.EmbedImages(reference.Tensor("eval", "pixel_values")));
        TensorAssert.Close(reference.Tensor("zero_shot", "probs"), probs, ZeroShotTolerance, $"{label} zero-shot probs");
    }

    public static double Relative(Tensor expected, Tensor actual)
    {
        using var scope = torch.NewDisposeScope();
        return (actual - expected).abs().max().item<float>() / expected.abs().max().item<float>();
    }
}
