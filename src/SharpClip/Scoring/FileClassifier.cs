using SharpClip.Pipelines;
using SharpClip.ZeroShot;
using TorchSharp;

namespace SharpClip.Scoring;

/// <summary>A class and the probability the zero-shot classifier gives it.</summary>
public sealed record ClassProbability(string Label, float Probability);

/// <summary>One image's best classes, most probable first.</summary>
/// <param name="Source">The image path, as given.</param>
/// <param name="Top">The best classes, most probable first.</param>
public sealed record ClassifiedImage(string Source, IReadOnlyList<ClassProbability> Top);

/// <summary>
/// A classification run: the readable images in input order, the inputs that could not be read (not classified),
/// and the size of the classifier (prompt templates per class, classes).
/// </summary>
public sealed record ClassificationResult(IReadOnlyList<ClassifiedImage> Images, IReadOnlyList<EmbeddingResult> Failed, int TemplateCount, int ClassCount);

/// <summary>
/// Zero-shot classification of image files, the <c>classify</c> use case: the labels in the templates become a
/// classifier (<see cref="ClipPipeline.BuildClassifier(ClassPrompts, string?, IProgress{int}?, CancellationToken)"/>,
/// the same weights <c>eval zeroshot</c> scores with), and each image gets its top classes with probabilities.
/// </summary>
public static class FileClassifier
{
    /// <summary>Classifies <paramref name="files"/> into <paramref name="labels"/>; an unreadable file is reported in <see cref="ClassificationResult.Failed"/>, the rest go on.</summary>
    /// <param name="pipeline">The model.</param>
    /// <param name="files">Image files, classified in this order.</param>
    /// <param name="labels">Class names (at least one).</param>
    /// <param name="templates">Filled with each label and ensembled.</param>
    /// <param name="topK">Classes kept per image, clamped to 1..labels.</param>
    /// <param name="progress">Receives the number of images embedded so far.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public static ClassificationResult Classify(ClipPipeline pipeline, IReadOnlyList<string> files, IReadOnlyList<string> labels, PromptTemplates templates,
        int topK = 5, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        int k = Math.Clamp(topK, 1, labels.Count);
        using var classifier = BuildClassifier(pipeline, labels, templates, cancellationToken);
        var results = pipeline.EmbedImages(files, true, progress, cancellationToken);
        var good = results.Where(r => r.Succeeded).ToList();
        var images = new List<ClassifiedImage>();
        if (good.Count > 0)
        {
            using var features = torch.tensor(good.SelectMany(r => r.Vector!).ToArray(), [good.Count, pipeline.EmbeddingDimension]); // [images, embed_dim]
            using var probs = classifier.Predict(features); // [images, classes]
            var p = probs.data<float>().ToArray();
            for (int i = 0; i < good.Count; i++)
                images.Add(new ClassifiedImage(good[i].Source, Enumerable.Range(0, labels.Count)
                    .Select(c => new ClassProbability(labels[c], p[i * labels.Count + c]))
                    .OrderByDescending(x => x.Probability).Take(k).ToList()));
        }
        return new ClassificationResult(images, results.Where(r => !r.Succeeded).ToList(), templates.Templates.Count, labels.Count);
    }

    /// <summary>The classifier <see cref="Classify"/> uses: each label in every template, ensembled.</summary>
    public static ZeroShotClassifier BuildClassifier(ClipPipeline pipeline, IReadOnlyList<string> labels, PromptTemplates templates,
        CancellationToken cancellationToken = default) =>
        pipeline.BuildClassifier(ClassPrompts.FromTemplates(labels, templates), cancellationToken: cancellationToken);
}
