using SharpClip.Modeling;
using SharpClip.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.ZeroShot;

/// <summary>
/// The one way a zero-shot classifier is made, for <c>classify</c>, the evaluations and training-time checks alike:
/// every prompt embedded and L2-normalised, each class's prompts averaged and the mean renormalised (the CLIP paper's
/// prompt ensembling), one column per class.
/// </summary>
/// <remarks>
/// The mean is float32, as the reference's notebook computes it (<c>class_embeddings.mean(dim=0)</c> on float32
/// embeddings): the weights then match its <c>zeroshot_weights</c> to rounding, and the work stays in torch on the
/// model's output rather than in a managed loop. (The evaluations used to average in double precision; that moves
/// the weights only in float32's last digits, bought nothing, and made <c>classify</c> and <c>eval</c> disagree.)
/// </remarks>
public static class ClassifierBuilder
{
    /// <summary>Prompts embedded per forward pass when the caller does not say.</summary>
    public const int DefaultBatchSize = 256;

    /// <summary>
    /// Tokenises every class's prompts (cutting any longer than the model's context, as a dataset's own phrasings may
    /// be) and builds the classifier.
    /// </summary>
    /// <param name="model">Embeds the prompts; its train/eval mode is left as is.</param>
    /// <param name="tokenizer">The tokenizer the model was trained with.</param>
    /// <param name="prompts">Class names and each class's prompts.</param>
    /// <param name="batchSize">Prompts embedded per forward pass (bounds memory).</param>
    /// <param name="progress">Receives the number of prompts embedded so far.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public static ZeroShotClassifier Build(IClipEncoder model, ClipTokenizer tokenizer, ClassPrompts prompts, int batchSize = DefaultBatchSize,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        var all = prompts.Prompts.SelectMany(p => p).ToList(); // class-major
        using var ids = tokenizer.Tokenize(all, model.Config.ContextLength, truncate: true); // [prompts, context]
        return Build(model, ids, prompts.Prompts.Select(p => p.Count).ToList(), prompts.ClassNames, batchSize, progress, cancellationToken);
    }

    /// <summary>
    /// Builds the classifier from already tokenised prompts, class-major: the first <c>promptsPerClass[0]</c> rows are
    /// class 0's, the next class 1's, and so on.
    /// </summary>
    /// <param name="model">Embeds the prompts; its train/eval mode is left as is.</param>
    /// <param name="ids">[prompts, context] token ids.</param>
    /// <param name="promptsPerClass">How many rows each class has; they must add up to the rows of <paramref name="ids"/>.</param>
    /// <param name="classNames">Optional names, one per class.</param>
    /// <param name="batchSize">Prompts embedded per forward pass (bounds memory).</param>
    /// <param name="progress">Receives the number of prompts embedded so far.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public static ZeroShotClassifier Build(IClipEncoder model, Tensor ids, IReadOnlyList<int> promptsPerClass, IReadOnlyList<string>? classNames = null,
        int batchSize = DefaultBatchSize, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        long rows = ids.shape[0];
        if (promptsPerClass.Count == 0 || promptsPerClass.Any(k => k <= 0) || promptsPerClass.Sum(k => (long)k) != rows)
            throw new ArgumentException($"{rows} prompt rows do not divide into {promptsPerClass.Count} classes", nameof(promptsPerClass));
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "must be positive");

        var embedded = new List<Tensor>();
        try
        {
            for (long start = 0; start < rows; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long count = Math.Min(batchSize, rows - start);
                using var batch = ids.narrow(0, start, count);
                embedded.Add(model.EmbedTexts(batch, normalize: true)); // [count, embed_dim], each prompt unit-norm
                progress?.Report((int)(start + count));
            }
            using var _ = torch.inference_mode();
            using var scope = torch.NewDisposeScope();
            var prompts = torch.cat(embedded, 0); // [prompts, embed_dim]
            var means = ClassMeans(prompts, promptsPerClass); // [classes, embed_dim]
            var weights = Embeddings.L2Normalize(means).t().contiguous(); // [embed_dim, classes]
            return new ZeroShotClassifier(weights, classNames);
        }
        finally
        {
            foreach (var t in embedded) t.Dispose();
        }
    }

    /// <summary>Each class's mean prompt embedding, [classes, embed_dim]; inside the caller's dispose scope.</summary>
    static Tensor ClassMeans(Tensor prompts, IReadOnlyList<int> promptsPerClass)
    {
        int classes = promptsPerClass.Count, k = promptsPerClass[0];
        if (promptsPerClass.All(n => n == k))
            return prompts.view(classes, k, -1).mean([1]); // [classes, K, embed_dim] → [classes, embed_dim]
        var means = new Tensor[classes];
        long offset = 0;
        for (int c = 0; c < classes; c++)
        {
            means[c] = prompts.narrow(0, offset, promptsPerClass[c]).mean([0]); // [embed_dim]
            offset += promptsPerClass[c];
        }
        return torch.stack(means, 0);
    }
}
