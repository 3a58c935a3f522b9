using SharpClip.Modeling;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using SharpClip.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Training;

/// <summary>
/// The training step as the trainer takes it (<see cref="ContrastiveStep"/> with the CLIP objective: raw embeddings →
/// normalise → exp(logit_scale)-scaled logits → symmetric cross-entropy → backward) against every manifest model's
/// <c>train_step</c>: loss, dense and sparse gradients, and BatchNorm statistics after the step. For ViT models the
/// same step split into micro-batches (gradient cache) must match the reference too; ResNets normalise per
/// micro-batch in that mode (see ContrastiveStep), so their reference is the whole-batch step only.
/// </summary>
[Trait("Category", "Fidelity")]
public class TrainingParityTests
{
    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    const double Tolerance = 1e-4;

    [Theory, MemberData(nameof(Models))]
    public void TrainingStepReproducesTheReferenceLossAndGradients(string id)
    {
        using var reference = new ReferenceModel(id);
        var step = reference.Section("train_step");
        bool vit = reference.Section("architecture").GetString() == "vit";
        var pixels = reference.Tensor("train_step", "pixel_values");
        var ids = reference.Tensor("train_step", "input_ids");
        long n = pixels.shape[0];

        foreach (int? micro in vit ? new int?[] { null, (int)((n + 1) / 2) } : [null])
        {
            using var scope = torch.NewDisposeScope();
            using var model = ClipModel.Load(reference.WeightsPath);
            using var objective = ContrastiveObjective.Create(ObjectiveKind.Clip);
            using var trainStep = new ContrastiveStep(model, objective, new ContrastiveStepOptions { MicroBatchSize = micro });
            string what = $"{id} ({(micro is null ? "whole batch" : $"micro-batches of {micro}")})";

            float loss = trainStep.Run(pixels, ids);
            TensorAssert.Close(reference.Tensor("train_step", "loss"), torch.tensor(loss), Tolerance, $"{what} loss");

            var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var g in step.GetProperty("gradients").EnumerateObject())
            {
                Assert.True(parameters.ContainsKey(g.Name), $"{id}: no parameter '{g.Name}'");
                Assert.NotNull(parameters[g.Name].grad);
                TensorAssert.Close(reference.Output(g.Value.GetString()!), parameters[g.Name].grad!, Tolerance, $"{what} grad {g.Name}");
            }
            foreach (var s in step.GetProperty("sparse_gradients").EnumerateObject())
            {
                var grad = parameters[s.Name].grad!;
                var rows = reference.Output(s.Value.GetProperty("rows").GetString()!);
                TensorAssert.Close(reference.Output(s.Value.GetProperty("values").GetString()!), grad.index_select(0, rows), Tolerance, $"{what} grad {s.Name}");
                var others = grad.clone().index_fill_(0, rows, 0);
                Assert.True(others.eq(0).all().item<bool>(), $"{what} grad {s.Name}: rows of absent tokens must be 0");
            }
            var state = model.state_dict();
            foreach (var b in step.GetProperty("buffers_after").EnumerateObject())
                TensorAssert.Close(reference.Output(b.Value.GetString()!), state[b.Name], Tolerance, $"{what} buffer {b.Name} after the step");
        }
    }
}
