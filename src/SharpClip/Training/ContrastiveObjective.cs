using System.Text.Json.Serialization;
using SharpClip.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Training;

/// <summary>Which contrastive loss a run optimises.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ObjectiveKind>))]
public enum ObjectiveKind
{
    /// <summary>CLIP's symmetric cross-entropy over the batch (softmax over texts per image and over images per text).</summary>
    Clip,
    /// <summary>SigLIP's pairwise sigmoid loss with a learned bias.</summary>
    SigLip,
}

/// <summary>
/// The training objective as a function of raw (unnormalised) embeddings, so the whole loss, normalisation included,
/// sits after the towers: that is what lets <see cref="ContrastiveStep"/> take its gradient with respect to the
/// embeddings alone and back-propagate it through the towers micro-batch by micro-batch.
/// <para>The temperature is the model's own <c>logit_scale</c> (CLIP initialises it to log(1/0.07); SigLIP to log 10),
/// clamped to [0, log 100] after every step as CLIP does so the logits cannot grow without bound. SigLIP adds a
/// learned bias (initialised to −10, so that at the start almost every pair is confidently "no match", which matches
/// the N² − N negatives); it lives here, is saved in training checkpoints, and is not part of the CLIP model folder
/// (ranking by similarity, all that zero-shot and search use, does not depend on it).</para>
/// </summary>
public sealed class ContrastiveObjective : IDisposable
{
    /// <summary>CLIP's clamp on the log-temperature: exp(logit_scale) ≤ 100.</summary>
    public static readonly double MaxLogitScale = Math.Log(100);

    ContrastiveObjective(ObjectiveKind kind)
    {
        Kind = kind;
        if (kind == ObjectiveKind.SigLip)
            LogitBias = new Parameter(torch.tensor(-10f));
    }

    public static ContrastiveObjective Create(ObjectiveKind kind) => new(kind);

    public ObjectiveKind Kind { get; }

    /// <summary>The log-temperature a model trained from scratch starts with: log(1/0.07) for CLIP, log 10 for SigLIP.</summary>
    public double InitialLogitScale => Kind == ObjectiveKind.Clip ? Math.Log(1 / 0.07) : Math.Log(10);

    /// <summary>SigLIP's learned bias (a scalar); null for CLIP.</summary>
    public Parameter? LogitBias { get; }

    /// <summary>Learnable parameters that belong to the objective rather than the model (none for CLIP).</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> Parameters =>
        LogitBias is null ? [] : [("logit_bias", LogitBias)];

    /// <summary>The loss of a batch of matching pairs (image i with text i).</summary>
    /// <param name="imageFeatures">[N, D] raw image embeddings (any float dtype; computed in float32).</param>
    /// <param name="textFeatures">[N, D] raw text embeddings.</param>
    /// <param name="logitScale">The model's scalar log-temperature (a parameter, so its gradient is taken too).</param>
    /// <returns>Scalar float32 loss.</returns>
    public Tensor Loss(Tensor imageFeatures, Tensor textFeatures, Tensor logitScale)
    {
        if (imageFeatures.dim() != 2 || !imageFeatures.shape.SequenceEqual(textFeatures.shape))
            throw new ArgumentException($"image and text features must both be [N, D]; got [{string.Join(",", imageFeatures.shape)}] and [{string.Join(",", textFeatures.shape)}]");
        using var scope = torch.NewDisposeScope();
        var image = Embeddings.L2Normalize(imageFeatures.to(ScalarType.Float32));
        var text = Embeddings.L2Normalize(textFeatures.to(ScalarType.Float32));
        var logits = logitScale.to(ScalarType.Float32).exp() * image.matmul(text.t()); // [N images, N texts]
        var loss = Kind == ObjectiveKind.Clip
            ? ClipLoss.Compute(logits, logits.t())
            : SigLipLoss.Compute(logits.Plus(LogitBias!));
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>Clamps a log-temperature to [0, log 100] in place (after each optimizer step).</summary>
    public static void ClampLogitScale(Tensor logitScale)
    {
        using var _ = torch.no_grad();
        logitScale.clamp_(LogitScaleFloor, LogitScaleCeiling);
    }

    // Kept for the process: a temporary Scalar can be finalised mid-op (shared/notes/torchsharp.md §11).
    static readonly Scalar LogitScaleFloor = 0, LogitScaleCeiling = MaxLogitScale;

    /// <summary>Sets a freshly initialised model's temperature to this objective's starting value.</summary>
    public void InitializeLogitScale(ClipModel model)
    {
        using var _ = torch.no_grad();
        using Scalar initial = InitialLogitScale;   // held for the op (Modeling/KeptScalars)
        model.LogitScale.fill_(initial);
    }

    public void Dispose() => LogitBias?.Dispose();
}
