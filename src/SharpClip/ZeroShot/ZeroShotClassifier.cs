using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.ZeroShot;

/// <summary>
/// Zero-shot classification as in the CLIP paper: each class is described by K prompts ("a photo of a {}.", ...);
/// each prompt's text embedding is L2-normalised, the K are averaged and the mean re-normalised, giving one
/// column per class. An image's class probabilities are <c>softmax(100 · norm(image) @ W)</c>.
/// Weights and probabilities are float32 on the CPU.
/// </summary>
public sealed class ZeroShotClassifier : IDisposable
{
    /// <summary>The reference's fixed logit multiplier (CLIP's learned scale saturates at 100).</summary>
    public const double DefaultLogitMultiplier = 100.0;

    /// <param name="weights">[embed_dim, classes] float32: one unit-norm column per class.</param>
    /// <param name="classNames">Optional names, one per column.</param>
    /// <param name="logitMultiplier">Scale of the cosine similarities before the softmax.</param>
    public ZeroShotClassifier(Tensor weights, IReadOnlyList<string>? classNames = null, double logitMultiplier = DefaultLogitMultiplier)
    {
        if (weights.dim() != 2) throw new ArgumentException($"weights must be [embed_dim, classes]; got [{string.Join(",", weights.shape)}]", nameof(weights));
        if (classNames is not null && classNames.Count != weights.shape[1])
            throw new ArgumentException($"{classNames.Count} class names for {weights.shape[1]} weight columns", nameof(classNames));
        Weights = weights.to(ScalarType.Float32, CPU).DetachFromDisposeScope();
        ClassNames = classNames;
        LogitMultiplier = logitMultiplier;
    }

    /// <summary>[embed_dim, classes] float32 on the CPU.</summary>
    public Tensor Weights { get; }

    public IReadOnlyList<string>? ClassNames { get; }

    public double LogitMultiplier { get; }

    public int ClassCount => (int)Weights.shape[1];

    /// <summary>
    /// Builds the classifier from already tokenised prompts, K per class, class-major: row <c>c·K + k</c> is class c
    /// with template k. <see cref="ClassifierBuilder"/> does the work (and takes any number of prompts per class).
    /// </summary>
    /// <param name="model">The CLIP model whose text tower embeds the prompts (its train/eval mode is left as is).</param>
    /// <param name="ids">[classes·K, context] token ids.</param>
    /// <param name="classCount">Number of classes C; the rows must divide into C groups of K.</param>
    /// <param name="classNames">Optional names of the C classes.</param>
    /// <param name="batchSize">Prompts embedded per forward pass (bounds memory).</param>
    /// <param name="progress">Receives the number of prompts embedded so far.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public static ZeroShotClassifier FromTokenIds(IClipEncoder model, Tensor ids, int classCount, IReadOnlyList<string>? classNames = null,
        int batchSize = ClassifierBuilder.DefaultBatchSize, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        long rows = ids.shape[0];
        if (classCount <= 0 || rows == 0 || rows % classCount != 0)
            throw new ArgumentException($"{rows} prompt rows do not divide into {classCount} classes", nameof(classCount));
        var perClass = Enumerable.Repeat((int)(rows / classCount), classCount).ToList();
        return ClassifierBuilder.Build(model, ids, perClass, classNames, batchSize, progress, cancellationToken);
    }

    /// <summary>Scaled cosine similarities <c>multiplier · norm(image) @ W</c>: [images, classes] float32.</summary>
    /// <param name="imageFeatures">[images, embed_dim], raw or normalised, any float dtype/device.</param>
    public Tensor Logits(Tensor imageFeatures)
    {
        if (imageFeatures.dim() != 2 || imageFeatures.shape[1] != Weights.shape[0])
            throw new ArgumentException($"image features must be [images, {Weights.shape[0]}]; got [{string.Join(",", imageFeatures.shape)}]", nameof(imageFeatures));
        using var _ = torch.inference_mode();
        using var scope = torch.NewDisposeScope();
        var images = Embeddings.L2Normalize(imageFeatures.to(ScalarType.Float32, CPU));
        using Scalar multiplier = LogitMultiplier;   // held for the op (Modeling/KeptScalars)
        return images.matmul(Weights).mul_(multiplier).MoveToOuterDisposeScope();
    }

    /// <summary>Class probabilities <c>softmax(multiplier · norm(image) @ W)</c>: [images, classes] float32, rows sum to 1.</summary>
    public Tensor Predict(Tensor imageFeatures)
    {
        using var _ = torch.inference_mode();
        using var logits = Logits(imageFeatures);
        return logits.softmax(-1);
    }

    public void Dispose() => Weights.Dispose();
}
