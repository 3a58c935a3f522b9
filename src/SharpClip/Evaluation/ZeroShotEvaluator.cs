using SharpClip.Data;
using SharpClip.ZeroShot;
using SharpClip.Pipelines;
using TorchSharp;

namespace SharpClip.Evaluation;

/// <summary>
/// A zero-shot run on one dataset: <c>Skipped</c> images could not be read (left out of the metrics);
/// <c>PromptsPerClass</c> is the ensemble size (the mean when classes differ).
/// </summary>
public sealed record ZeroShotResult(string Dataset, int Skipped, double PromptsPerClass, ClassificationMetrics Metrics)
{
    /// <summary>Why the skipped images could not be read, each message naming its file.</summary>
    public IReadOnlyList<string> Failures { get; init; } = [];
}

/// <summary>Options shared by the evaluations: where features and classifiers are cached.</summary>
public sealed record EvaluationOptions
{
    /// <summary>Folder for cached features and classifier weights; null disables caching.</summary>
    public string? CacheDirectory { get; init; }
}

/// <summary>
/// Zero-shot classification of a labelled dataset, as the CLIP paper evaluates: the class names (in templates, or
/// the dataset's own prompts) become a linear classifier over image embeddings, with no training on the dataset.
/// </summary>
public static class ZeroShotEvaluator
{
    /// <summary>
    /// Builds (or loads from the cache) the classifier, extracts (or loads) the features and scores them.
    /// <paramref name="templates"/> are filled with each class name; null uses the dataset's own prompts when it has
    /// them, else "a photo of a {}.".
    /// </summary>
    public static ZeroShotResult Evaluate(ClipPipeline pipeline, LabeledDataset dataset, PromptTemplates? templates = null,
        EvaluationOptions? options = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new EvaluationOptions();
        using var classifier = BuildClassifier(pipeline, dataset, templates, options, cancellationToken);
        var features = ImageFeatures.ExtractCached(pipeline, dataset, options.CacheDirectory, progress, cancellationToken);
        return Score(dataset, classifier, features, PromptsFor(dataset, templates).PromptsPerClass);
    }

    /// <summary>The prompts an evaluation embeds: the templates filled with each class name, or the dataset's own prompts when no templates are given and it has them.</summary>
    public static ClassPrompts PromptsFor(LabeledDataset dataset, PromptTemplates? templates) =>
        ClassPrompts.Choose(dataset.ClassNames, templates, dataset.ClassPrompts);

    /// <summary>The classifier <see cref="Evaluate"/> scores with: <see cref="ClipPipeline.BuildClassifier(ClassPrompts, string?, IProgress{int}?, CancellationToken)"/>, as <c>classify</c> builds it, cached in the options' folder.</summary>
    public static ZeroShotClassifier BuildClassifier(ClipPipeline pipeline, LabeledDataset dataset, PromptTemplates? templates = null,
        EvaluationOptions? options = null, CancellationToken cancellationToken = default) =>
        pipeline.BuildClassifier(PromptsFor(dataset, templates), options?.CacheDirectory, cancellationToken: cancellationToken);

    /// <summary>Scores precomputed features (rows failed in <paramref name="features"/> are left out).</summary>
    public static ZeroShotResult Score(LabeledDataset dataset, ZeroShotClassifier classifier, FeatureMatrix features, double promptsPerClass)
    {
        var good = Enumerable.Range(0, features.Count).Where(i => features.Ok[i]).ToList();
        if (good.Count == 0) throw new InvalidDataException($"{dataset.Name}: none of the {features.Count} images could be read");
        var rows = new float[good.Count * features.Dimension];
        for (int g = 0; g < good.Count; g++) features.Row(good[g]).CopyTo(rows.AsSpan(g * features.Dimension));
        using var x = torch.tensor(rows, [good.Count, features.Dimension]);
        using var logits = classifier.Logits(x); // [images, classes]
        var metrics = ClassificationMetrics.Compute(logits.data<float>().ToArray(), good.Select(i => dataset.Items[i].Label).ToList(), dataset.ClassNames);
        return new ZeroShotResult(dataset.Name, features.Count - good.Count, promptsPerClass, metrics)
        {
            Failures = features.Errors.OrderBy(e => e.Key).Select(e => e.Value).ToList(),
        };
    }
}
