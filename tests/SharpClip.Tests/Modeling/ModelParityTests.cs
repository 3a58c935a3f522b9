using SharpClip.ZeroShot;
using SharpClip.Evaluation;
using SharpClip.Modeling;
using SharpClip.Tests.Infrastructure;
using SharpClip.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Modeling;

/// <summary>
/// Every <c>models</c> entry of the fixture manifest against the reference's own outputs: the weights file is loaded
/// with the architecture inferred from it (F32 or F16 storage; the reference computed in fp32 from the stored
/// values), then features, logits, hidden states, zero-shot weights/probabilities and one training step are compared.
/// </summary>
[Trait("Category", "Fidelity")]
public class ModelParityTests
{
    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    const double FeatureTolerance = 1e-4;
    const double LogitTolerance = 1e-3;
    const double ZeroShotTolerance = 1e-4;
    const double GradientTolerance = 1e-4;

    static ClipConfig ManifestConfig(ReferenceModel reference)
    {
        var c = reference.Section("config");
        var layers = c.GetProperty("vision_layers");
        var patch = c.GetProperty("vision_patch_size");
        var config = new ClipConfig
        {
            EmbedDim = c.GetProperty("embed_dim").GetInt32(),
            ImageResolution = c.GetProperty("image_resolution").GetInt32(),
            VisionLayers = layers.ValueKind == System.Text.Json.JsonValueKind.Array
                ? [.. layers.EnumerateArray().Select(l => l.GetInt32())] : [layers.GetInt32()],
            VisionWidth = c.GetProperty("vision_width").GetInt32(),
            VisionPatchSize = patch.ValueKind == System.Text.Json.JsonValueKind.Null ? null : patch.GetInt32(),
            ContextLength = c.GetProperty("context_length").GetInt32(),
            VocabSize = c.GetProperty("vocab_size").GetInt32(),
            TextWidth = c.GetProperty("transformer_width").GetInt32(),
            TextHeads = c.GetProperty("transformer_heads").GetInt32(),
            TextLayers = c.GetProperty("transformer_layers").GetInt32(),
        };
        int visionHeads = c.GetProperty("vision_heads").GetInt32();
        return config.IsVisionTransformer ? config with { VisionHeadWidth = config.VisionWidth / visionHeads } : config;
    }

    [Theory, MemberData(nameof(Models))]
    public void InfersTheReferenceArchitectureAndParameterCount(string id)
    {
        using var reference = new ReferenceModel(id);
        using var model = ClipModel.Load(reference.WeightsPath);
        var expected = ManifestConfig(reference);
        Assert.Equal(expected, model.Config);
        Assert.Equal(reference.Section("config").GetProperty("vision_heads").GetInt32(), model.Config.VisionHeads);
        long count = reference.Entry.GetProperty("param_count").GetInt64();
        Assert.Equal(count, model.ParameterCount);
        Assert.Equal(count, model.Config.ParameterCount);
        Assert.Equal(reference.Entry.GetProperty("logit_scale").GetDouble(), model.LogitScale.item<float>(), 6);
    }

    [Theory, MemberData(nameof(Models))]
    public void EvalOutputsMatchTheReference(string id)
    {
        using var reference = new ReferenceModel(id);
        using var model = ClipModel.Load(reference.WeightsPath);
        using var scope = torch.NewDisposeScope();
        var pixels = reference.Tensor("eval", "pixel_values");
        var ids = reference.Tensor("eval", "input_ids");
        using var _ = torch.inference_mode();

        var image = model.EncodeImages(pixels);
        TensorAssert.Close(reference.Tensor("eval", "image_features"), image, FeatureTolerance, $"{id} image_features");
        var text = model.EncodeTexts(ids);
        TensorAssert.Close(reference.Tensor("eval", "text_features"), text, FeatureTolerance, $"{id} text_features");

        var (perImage, perText) = model.Forward(pixels, ids);
        TensorAssert.Close(reference.Tensor("eval", "logits_per_image"), perImage, LogitTolerance, $"{id} logits_per_image");
        TensorAssert.Close(reference.Tensor("eval", "logits_per_text"), perText, LogitTolerance, $"{id} logits_per_text");

        using var hidden = model.EncodeTextsWithHiddenStates(ids);
        TensorAssert.Close(reference.Tensor("eval", "text_features"), hidden.Features, FeatureTolerance, $"{id} text_features (with hidden states)");
        TensorAssert.Close(reference.Tensor("eval", "text_block_outputs"), hidden.BlockOutputs!, FeatureTolerance, $"{id} text_block_outputs");
        TensorAssert.Close(reference.Tensor("eval", "text_final_hidden"), hidden.FinalHidden, FeatureTolerance, $"{id} text_final_hidden");

        // The inference path gives the same numbers, normalised, as float32 on the CPU.
        var embedded = model.EmbedImages(pixels);
        TensorAssert.Close(Embeddings.L2Normalize(reference.Tensor("eval", "image_features")), embedded, FeatureTolerance, $"{id} EmbedImages");
    }

    [Theory, MemberData(nameof(Models))]
    public void ZeroShotWeightsAndProbabilitiesMatchTheReference(string id)
    {
        using var reference = new ReferenceModel(id);
        using var model = ClipModel.Load(reference.WeightsPath);
        using var scope = torch.NewDisposeScope();
        var zs = reference.Section("zero_shot");
        var classNames = zs.GetProperty("classnames").EnumerateArray().Select(e => e.GetString()!).ToList();
        var ids = reference.Tensor("zero_shot", "input_ids");
        using var classifier = ZeroShotClassifier.FromTokenIds(model, ids, classNames.Count, classNames, batchSize: 4);
        Assert.Equal(zs.GetProperty("logit_multiplier").GetDouble(), classifier.LogitMultiplier);
        TensorAssert.Close(reference.Tensor("zero_shot", "weights"), classifier.Weights, ZeroShotTolerance, $"{id} zero-shot weights");

        var imageFeatures = reference.Output(zs.GetProperty("image_features_from").GetString()!);
        var probs = classifier.Predict(imageFeatures);
        TensorAssert.Close(reference.Tensor("zero_shot", "probs"), probs, ZeroShotTolerance, $"{id} zero-shot probs");
        // And from our own image features, end to end.
        var ours = classifier.Predict(model.EmbedImages(reference.Tensor("eval", "pixel_values")));
        TensorAssert.Close(reference.Tensor("zero_shot", "probs"), ours, ZeroShotTolerance, $"{id} zero-shot probs from our features");
    }

    [Theory, MemberData(nameof(Models))]
    public void TrainStepLossGradientsAndBatchNormStatisticsMatchTheReference(string id)
    {
        using var reference = new ReferenceModel(id);
        using var model = ClipModel.Load(reference.WeightsPath);
        using var scope = torch.NewDisposeScope();
        var step = reference.Section("train_step");
        var countersBefore = model.state_dict().Where(kv => kv.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value.item<long>());

        model.train();
        var (perImage, perText) = model.Forward(reference.Tensor("train_step", "pixel_values"), reference.Tensor("train_step", "input_ids"));
        var loss = ClipLoss.Compute(perImage, perText);
        loss.backward();

        TensorAssert.Close(reference.Tensor("train_step", "loss"), loss, GradientTolerance, $"{id} train loss");
        TensorAssert.Close(reference.Tensor("train_step", "logits_per_image"), perImage, LogitTolerance, $"{id} train logits_per_image");

        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var g in step.GetProperty("gradients").EnumerateObject())
        {
            Assert.True(parameters.ContainsKey(g.Name), $"{id}: no parameter '{g.Name}'");
            var grad = parameters[g.Name].grad;
            Assert.NotNull(grad);
            TensorAssert.Close(reference.Output(g.Value.GetString()!), grad!, GradientTolerance, $"{id} grad {g.Name}");
        }

        foreach (var s in step.GetProperty("sparse_gradients").EnumerateObject())
        {
            var grad = parameters[s.Name].grad!;
            var shape = s.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.Equal(shape, grad.shape);
            var rows = reference.Output(s.Value.GetProperty("rows").GetString()!);
            TensorAssert.Close(reference.Output(s.Value.GetProperty("values").GetString()!), grad.index_select(0, rows),
                GradientTolerance, $"{id} grad {s.Name} (listed rows)");
            var others = grad.clone();
            others.index_fill_(0, rows, 0);
            Assert.True(others.eq(0).all().item<bool>(), $"{id} grad {s.Name}: rows other than the batch's token ids must be exactly 0");
        }

        var state = model.state_dict();
        foreach (var b in step.GetProperty("buffers_after").EnumerateObject())
            TensorAssert.Close(reference.Output(b.Value.GetString()!), state[b.Name], GradientTolerance, $"{id} buffer {b.Name} after the step");
        foreach (var (name, before) in countersBefore)
            Assert.Equal(before + 1, state[name].item<long>());
        Assert.Equal(step.GetProperty("buffers_after").EnumerateObject().Any(), countersBefore.Count > 0); // ResNets have BatchNorm, ViTs none
    }
}
