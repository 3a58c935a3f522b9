using SharpClip.Managed;
using SharpClip.Modeling;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using SharpClip.ZeroShot;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpClip.Tests.Managed;

/// <summary>
/// The fidelity checks of <see cref="ModelParityTests"/> on the managed engine: every <c>models</c> entry of the fixture
/// manifest against the reference's own outputs with the same bars. A ModifiedResNet (which the engine does not run)
/// must be refused with the reason, never run partly.
/// </summary>
[Trait("Category", "Fidelity")]
public class ManagedEngineParityTests(ITestOutputHelper output)
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
        if (!Runnable(model, id)) return;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var managed = new ManagedClipEncoder(model, threads);
            using var scope = torch.NewDisposeScope();
            var pixels = reference.Tensor("eval", "pixel_values");
            var ids = reference.Tensor("eval", "input_ids");

            var image = managed.EmbedImages(pixels, normalize: false);
            TensorAssert.Close(reference.Tensor("eval", "image_features"), image, FeatureTolerance, $"{id} managed ({threads} threads) image_features");
            var text = managed.EmbedTexts(ids, normalize: false, trimPadding: false);
            TensorAssert.Close(reference.Tensor("eval", "text_features"), text, FeatureTolerance, $"{id} managed ({threads} threads) text_features (all positions)");
            var trimmed = managed.EmbedTexts(ids, normalize: false);
            TensorAssert.Close(reference.Tensor("eval", "text_features"), trimmed, FeatureTolerance, $"{id} managed ({threads} threads) text_features (padding trimmed)");
            output.WriteLine($"{id}, {threads} threads: image max|Δ|/max|ref| {Relative(reference.Tensor("eval", "image_features"), image):E2}, " +
                             $"text {Relative(reference.Tensor("eval", "text_features"), text):E2}");

            var perImage = model.Similarity(image, text);
            TensorAssert.Close(reference.Tensor("eval", "logits_per_image"), perImage, LogitTolerance, $"{id} managed logits_per_image");
            TensorAssert.Close(reference.Tensor("eval", "logits_per_text"), perImage.t(), LogitTolerance, $"{id} managed logits_per_text");
            TensorAssert.Close(Embeddings.L2Normalize(reference.Tensor("eval", "image_features")), managed.EmbedImages(pixels), FeatureTolerance, $"{id} managed EmbedImages");
            TensorAssert.Close(Embeddings.L2Normalize(reference.Tensor("eval", "text_features")), managed.EmbedTexts(ids), FeatureTolerance, $"{id} managed EmbedTexts");
        }
    }

    [Theory, MemberData(nameof(Models))]
    public void ZeroShotWeightsAndProbabilitiesMatchTheReference(string id)
    {
        using var reference = new ReferenceModel(id);
        using var model = ClipModel.Load(reference.WeightsPath);
        if (!Runnable(model, id)) return;
        using var managed = new ManagedClipEncoder(model);
        using var scope = torch.NewDisposeScope();
        var zs = reference.Section("zero_shot");
        var classNames = zs.GetProperty("classnames").EnumerateArray().Select(e => e.GetString()!).ToList();
        using var classifier = ZeroShotClassifier.FromTokenIds(managed, reference.Tensor("zero_shot", "input_ids"), classNames.Count, classNames, batchSize: 4);
        TensorAssert.Close(reference.Tensor("zero_shot", "weights"), classifier.Weights, ZeroShotTolerance, $"{id} managed zero-shot weights");
        var probs = classifier.Predict(managed.EmbedImages(reference.Tensor("eval", "pixel_values")));
        TensorAssert.Close(reference.Tensor("zero_shot", "probs"), probs, ZeroShotTolerance, $"{id} managed zero-shot probs");
    }

    /// <summary>True for a model the engine runs; for a ResNet, checks the refusal names the reason and returns false.</summary>
    bool Runnable(ClipModel model, string id)
    {
        if (model.Config.IsVisionTransformer)
        {
            Assert.True(ManagedClipEncoder.CanRun(model, out var why), $"{id}: {why}");
            return true;
        }
        Assert.False(ManagedClipEncoder.CanRun(model, out var reason));
        Assert.Contains("ModifiedResNet", reason);
        var e = Assert.Throws<NotSupportedException>(() => new ManagedClipEncoder(model));
        Assert.Contains("ModifiedResNet", e.Message);
        output.WriteLine($"{id}: refused as expected ({reason})");
        return false;
    }

    static double Relative(Tensor expected, Tensor actual) =>
        (actual - expected).abs().max().item<float>() / expected.abs().max().item<float>();
}
