using SharpClip.ZeroShot;
using SharpClip.Files;
using SharpClip.Checkpoints;
using SharpClip.Modeling;
using SharpClip.Pipelines;
using TorchSharp;

namespace SharpClip.Evaluation;

/// <summary>
/// Builds zero-shot classifiers from per-class prompt lists (any number per class) and caches their weights on disk,
/// keyed by (model fingerprint, classes, prompts): embedding the paper's 80 templates × 1000 classes is the slow
/// part of a zero-shot run, and it depends on nothing else.
/// </summary>
public static class ClassifierBuilder
{
    /// <summary>The prompts for each class: the dataset's own, or the templates filled with the class name.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> PromptsFor(LabeledDataset dataset, PromptTemplates? templates) =>
        templates is null && dataset.ClassPrompts is not null
            ? dataset.ClassPrompts
            : dataset.ClassNames.Select(c => (IReadOnlyList<string>)(templates ?? PromptTemplates.PhotoOf).For(c).ToList()).ToList();

    /// <summary>
    /// Each prompt embedded and normalised, averaged per class and renormalised (prompt ensembling); weights [D, C].
    /// With a <paramref name="cacheDirectory"/>, reuses <c>classifier-&lt;key&gt;.safetensors</c> when present.
    /// </summary>
    public static ZeroShotClassifier Build(ClipPipeline pipeline, IReadOnlyList<string> classNames, IReadOnlyList<IReadOnlyList<string>> prompts,
        string? cacheDirectory = null, CancellationToken cancellationToken = default)
    {
        if (prompts.Count != classNames.Count) throw new ArgumentException($"{prompts.Count} prompt lists for {classNames.Count} classes");
        var empty = prompts.Select((p, i) => (p, i)).FirstOrDefault(t => t.p.Count == 0);
        if (empty.p is not null) throw new ArgumentException($"class '{classNames[empty.i]}' has no prompts");
        int dim = pipeline.EmbeddingDimension, classes = classNames.Count;
        string? path = null, key = null;
        if (cacheDirectory is not null)
        {
            key = ImageFeatures.Key([pipeline.Fingerprint, .. classNames.Select((c, i) => c + "\u0002" + string.Join("\u0001", prompts[i]))]);
            path = Path.Combine(cacheDirectory, $"classifier-{key[..24]}.safetensors");
            if (File.Exists(path))
            {
                using var file = SafeTensorsFile.Open(path);
                if (file.Metadata.TryGetValue("key", out var stored) && stored == key)
                {
                    var cached = file.ReadFloats("weights");
                    if (cached.Length == dim * classes)
                    {
                        return new ZeroShotClassifier(torch.tensor(cached, [dim, classes]), classNames); // owns the tensor
                    }
                }
            }
        }
        var all = prompts.SelectMany(p => p).ToList();
        using var embedded = pipeline.EmbedTexts(all, normalize: true, truncate: true, cancellationToken: cancellationToken); // [prompts, D]
        var e = embedded.data<float>().ToArray();
        var weights = new float[dim * classes]; // [D, C]
        int row = 0;
        for (int c = 0; c < classes; c++)
        {
            var mean = new double[dim];
            foreach (var _ in prompts[c]) { for (int d = 0; d < dim; d++) mean[d] += e[row * dim + d]; row++; }
            double norm = Math.Sqrt(mean.Sum(v => v * v));
            if (norm == 0) norm = 1;
            for (int d = 0; d < dim; d++) weights[d * classes + c] = (float)(mean[d] / norm);
        }
        if (path is not null)
        {
            Directory.CreateDirectory(cacheDirectory!);
            SafeTensorsWriter.Write(path, new Dictionary<string, SafeTensorsWriter.Entry> { ["weights"] = SafeTensorsWriter.FromFloats(weights, dim, classes) },
                new Dictionary<string, string> { ["key"] = key!, ["classes"] = classes.ToString(), ["model"] = pipeline.Source });
        }
        return new ZeroShotClassifier(torch.tensor(weights, [dim, classes]), classNames); // owns the tensor
    }
}
