using SharpClip.Modeling;
using SharpClip.Tests.Modeling;
using SharpClip.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Training;

/// <summary>
/// The gradient-cache step: splitting a batch into micro-batches must not change the gradients, because the
/// contrastive loss is computed over the whole batch either way.
/// </summary>
public class ContrastiveStepTests
{
    static ClipModel Model(ClipConfig config, int seed)
    {
        torch.manual_seed(seed);
        var model = new ClipModel(config);
        // Move every parameter off its initial value (e.g. ResNet's zero BatchNorm gains) so every path matters.
        using var _ = torch.no_grad();
        foreach (var p in model.parameters()) p.add_(torch.randn_like(p).mul_(0.05));
        return model;
    }

    static Dictionary<string, Tensor> StepGradients(ClipModel model, ContrastiveObjective objective, ContrastiveStepOptions options, Tensor pixels, Tensor ids, out float loss)
    {
        TrainingTestData.ClearGradients(model);
        foreach (var (_, p) in objective.Parameters) p.grad = null;
        using var step = new ContrastiveStep(model, objective, options);
        loss = step.Run(pixels, ids);
        return TrainingTestData.Gradients(step.TrainableParameters);
    }

    [Theory]
    [InlineData(ObjectiveKind.Clip, 3)]
    [InlineData(ObjectiveKind.Clip, 1)]
    [InlineData(ObjectiveKind.SigLip, 4)]
    public void ViTAccumulatedGradientsEqualTheWholeBatch(ObjectiveKind kind, int micro)
    {
        using var scope = torch.NewDisposeScope();
        using var model = Model(TinyConfigs.Vit, 1);
        using var objective = ContrastiveObjective.Create(kind);
        var (pixels, ids) = TrainingTestData.Batch(TinyConfigs.Vit, 8, 11);

        var whole = StepGradients(model, objective, new ContrastiveStepOptions(), pixels, ids, out var lossWhole);
        var cached = StepGradients(model, objective, new ContrastiveStepOptions { MicroBatchSize = micro }, pixels, ids, out var lossCached);

        Assert.Equal(lossWhole, lossCached, 1e-5);
        Assert.Equal(model.named_parameters().Count() + objective.Parameters.Count, whole.Count);   // every parameter got a gradient
        double diff = TrainingTestData.MaxDifference(whole, cached);
        Assert.True(diff <= 1e-5, $"accumulated gradients differ from the whole batch's by {diff:E3} (largest gradient {TrainingTestData.MaxAbs(whole):E3})");
    }

    // With BatchNorm in training mode a micro-batch is normalised with its own statistics, so the exact statement is:
    // the gradient-cache step equals an ordinary step of the model whose image tower runs micro-batch by micro-batch
    // (and BatchNorm's running statistics are updated once per micro-batch, as in that model).
    [Fact]
    public void ResNetAccumulatedGradientsEqualPerMicroBatchBatchNorm()
    {
        using var scope = torch.NewDisposeScope();
        var config = TinyConfigs.ResNet;
        using var model = Model(config, 2);
        using var objective = ContrastiveObjective.Create(ObjectiveKind.Clip);
        var (pixels, ids) = TrainingTestData.Batch(config, 6, 12);
        var buffersBefore = model.state_dict().Where(kv => kv.Key.Contains("running_")).ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        // Reference: one graph; the image tower sees the batch in two halves, the loss the whole batch.
        TrainingTestData.ClearGradients(model);
        model.train();
        var image = torch.cat([model.EncodeImages(pixels.narrow(0, 0, 3)), model.EncodeImages(pixels.narrow(0, 3, 3))], 0);
        var referenceLoss = objective.Loss(image, model.EncodeTexts(ids), model.LogitScale);
        referenceLoss.backward();
        var reference = TrainingTestData.Gradients(model.named_parameters().Select(p => (p.name, p.parameter)));
        var referenceBuffers = model.state_dict().Where(kv => kv.Key.Contains("running_")).ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        // Put the running statistics back and take the gradient-cache step from the same state.
        using (torch.no_grad())
            foreach (var (k, v) in model.state_dict().Where(kv => kv.Key.Contains("running_"))) v.copy_(buffersBefore[k]);
        var cached = StepGradients(model, objective, new ContrastiveStepOptions { MicroBatchSize = 3 }, pixels, ids, out var loss);

        Assert.Equal(referenceLoss.item<float>(), loss, 1e-5);
        double diff = TrainingTestData.MaxDifference(reference, cached);
        Assert.True(diff <= 1e-5, $"gradients differ by {diff:E3} (largest {TrainingTestData.MaxAbs(reference):E3})");
        foreach (var (k, v) in model.state_dict().Where(kv => kv.Key.Contains("running_")))
            Assert.True(v.allclose(referenceBuffers[k], rtol: 1e-5, atol: 1e-6), $"{k} after the step differs from the per-micro-batch reference");

        // Why not the plain full batch: its BatchNorm statistics are the whole batch's, so its gradients differ.
        var whole = StepGradients(model, objective, new ContrastiveStepOptions(), pixels, ids, out _);
        Assert.True(TrainingTestData.MaxDifference(whole, cached) > 1e-4, "full-batch BatchNorm should give different gradients from per-micro-batch BatchNorm");
    }

    [Theory]
    [InlineData(null)]
    [InlineData(4)]
    public void ActivationCheckpointingGivesTheSameGradients(int? micro)
    {
        using var scope = torch.NewDisposeScope();
        using var model = Model(TinyConfigs.Vit, 3);
        using var objective = ContrastiveObjective.Create(ObjectiveKind.Clip);
        var (pixels, ids) = TrainingTestData.Batch(TinyConfigs.Vit, 8, 13);
        var plain = StepGradients(model, objective, new ContrastiveStepOptions { MicroBatchSize = micro }, pixels, ids, out var lossPlain);
        var recomputed = StepGradients(model, objective, new ContrastiveStepOptions { MicroBatchSize = micro, ActivationCheckpointing = true }, pixels, ids, out var lossRecomputed);
        Assert.Equal(lossPlain, lossRecomputed, 1e-6);
        double diff = TrainingTestData.MaxDifference(plain, recomputed);
        Assert.True(diff <= 1e-6, $"checkpointed gradients differ by {diff:E3}");
        Assert.False(ActivationCheckpointing.IsEnabled(model), "disposing the step must turn checkpointing off again");
    }

    [Theory]
    [InlineData(true, null)]
    [InlineData(false, 3)]
    public void FrozenTowerGetsNoGradientsAndTheOtherTowerTheSame(bool freezeImage, int? micro)
    {
        using var scope = torch.NewDisposeScope();
        using var model = Model(TinyConfigs.Vit, 4);
        using var objective = ContrastiveObjective.Create(ObjectiveKind.Clip);
        var (pixels, ids) = TrainingTestData.Batch(TinyConfigs.Vit, 8, 14);
        var all = StepGradients(model, objective, new ContrastiveStepOptions(), pixels, ids, out _);
        var options = new ContrastiveStepOptions { MicroBatchSize = micro, FreezeImageTower = freezeImage, FreezeTextTower = !freezeImage };
        var partial = StepGradients(model, objective, options, pixels, ids, out _);

        Func<string, bool> frozen = freezeImage ? ContrastiveStep.IsImageTower : ContrastiveStep.IsTextTower;
        Assert.DoesNotContain(partial.Keys, k => frozen(k));
        Assert.Contains("logit_scale", partial.Keys);
        var expected = all.Where(kv => !frozen(kv.Key)).ToDictionary();
        double diff = TrainingTestData.MaxDifference(expected, partial);
        Assert.True(diff <= 1e-5, $"the trained tower's gradients changed by {diff:E3} when the other was frozen");
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad)); // disposing the step unfroze the tower
    }

    [Fact]
    public void TrimmingPaddingAfterTheLastEndTokenChangesNothing()
    {
        using var scope = torch.NewDisposeScope();
        using var model = Model(TinyConfigs.Vit, 6);
        using var objective = ContrastiveObjective.Create(ObjectiveKind.Clip);
        var (pixels, ids) = TrainingTestData.Batch(TinyConfigs.Vit, 6, 16);
        // Short captions: end tokens at positions 2..5 of a 12-token context.
        var rows = ids.data<long>().ToArray();
        int context = TinyConfigs.Vit.ContextLength;
        for (int i = 0; i < 6; i++)
        {
            int end = 2 + i % 4;
            for (int t = 1; t < context; t++) rows[i * context + t] = t < end ? 5 + t : t == end ? TinyConfigs.Vit.VocabSize - 1 : 0;
        }
        var shortIds = torch.tensor(rows, [6, context]);
        Assert.Equal(6, TextPadding.Trim(shortIds).shape[1]);
        var fullLength = torch.zeros([2, context], ScalarType.Int64);
        fullLength[0, context - 1] = torch.tensor((long)TinyConfigs.Vit.VocabSize - 1);
        Assert.Same(fullLength, TextPadding.Trim(fullLength));

        var full = StepGradients(model, objective, new ContrastiveStepOptions { TrimTextPadding = false }, pixels, shortIds, out var lossFull);
        var trimmed = StepGradients(model, objective, new ContrastiveStepOptions(), pixels, shortIds, out var lossTrimmed);
        // Exact in arithmetic; the shorter GEMMs round differently (and differently per CPU: AVX2 and AVX-512 kernels
        // split the sums in other places), so the bars are a few float32 ulps relative to the values compared.
        Assert.True(Math.Abs(lossFull - lossTrimmed) <= 1e-5 * Math.Abs(lossFull), $"trimming changed the loss from {lossFull} to {lossTrimmed}");
        // The positional embeddings of the dropped columns get no gradient either way.
        double diff = TrainingTestData.MaxDifference(full, trimmed), largest = TrainingTestData.MaxAbs(full);
        Assert.True(diff <= 1e-5 * largest, $"trimming changed the gradients by {diff:E3} (largest {largest:E3})");
    }

    [Fact]
    public void BFloat16ComputeKeepsFloat32MasterWeightsAndCloseGradients()
    {
        using var scope = torch.NewDisposeScope();
        using var model = Model(TinyConfigs.Vit, 5);
        using var objective = ContrastiveObjective.Create(ObjectiveKind.Clip);
        var (pixels, ids) = TrainingTestData.Batch(TinyConfigs.Vit, 8, 15);
        var fp32 = StepGradients(model, objective, new ContrastiveStepOptions(), pixels, ids, out var loss32);
        var bf16 = StepGradients(model, objective, new ContrastiveStepOptions { ComputeType = ScalarType.BFloat16, MicroBatchSize = 4 }, pixels, ids, out var loss16);

        Assert.Equal(ScalarType.Float32, model.DType);
        Assert.All(bf16.Values, g => Assert.Equal(ScalarType.Float32, g.dtype));
        Assert.Equal(loss32, loss16, 0.05);
        // bf16 keeps 8 significant bits: compare each gradient relative to its own size.
        foreach (var (name, g) in fp32)
        {
            double scale = g.abs().max().item<float>(), diff = (g - bf16[name]).abs().max().item<float>();
            Assert.True(diff <= 0.1 * scale + 1e-6, $"{name}: bf16 gradient off by {diff:E2} (scale {scale:E2})");
        }
    }
}
