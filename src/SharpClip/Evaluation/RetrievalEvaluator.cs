using System.Globalization;
using System.Text;
using System.Text.Json;
using SharpClip.Data;
using SharpClip.Pipelines;

namespace SharpClip.Evaluation;

/// <summary>A retrieval run: dataset, images left out (unreadable) and the recalls.</summary>
public sealed record RetrievalResult(string Dataset, int Skipped, RetrievalMetrics Metrics)
{
    /// <summary>Why the skipped images could not be read, each message naming its file.</summary>
    public IReadOnlyList<string> Failures { get; init; } = [];
}

/// <summary>
/// Image–text retrieval on any captioned SharpClip dataset (CSV, JSONL, folder with sidecars, tar shards, synthetic):
/// every image and every caption embedded once, recall@k both ways.
/// </summary>
public static class RetrievalEvaluator
{
    /// <param name="source">The dataset; all its captions are used (several per image is the usual case).</param>
    /// <param name="pipeline">The model.</param>
    /// <param name="limit">Evaluate only the first <paramref name="limit"/> samples (null: all).</param>
    /// <param name="progress">Images embedded so far.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public static RetrievalResult Evaluate(ClipPipeline pipeline, IImageTextSource source, int? limit = null,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        var samples = source.ReadAll(null, cancellationToken).Take(limit ?? int.MaxValue).ToList();
        if (samples.Count == 0) throw new InvalidDataException($"{source.Name}: no samples");
        var features = ImageFeatures.Extract(pipeline, samples.Select(s => s.Image).ToList(), progress, cancellationToken);
        var good = Enumerable.Range(0, samples.Count).Where(i => features.Ok[i]).ToList();
        if (good.Count == 0) throw new InvalidDataException($"{source.Name}: none of the {samples.Count} images could be read");
        int dim = features.Dimension;
        var images = new float[good.Count * dim];
        var captions = new List<string>();
        var imageOfText = new List<int>();
        for (int g = 0; g < good.Count; g++)
        {
            features.Row(good[g]).CopyTo(images.AsSpan(g * dim));
            foreach (var c in samples[good[g]].Captions) { captions.Add(c); imageOfText.Add(g); }
        }
        using var texts = pipeline.EmbedTexts(captions, normalize: true, truncate: true, cancellationToken: cancellationToken);
        var metrics = RetrievalMetrics.Compute(images, texts.data<float>().ToArray(), dim, imageOfText);
        return new RetrievalResult(source.Name, samples.Count - good.Count, metrics)
        {
            Failures = features.Errors.OrderBy(e => e.Key).Select(e => e.Value).ToList(),
        };
    }

    /// <summary>Writes <c>retrieval.json</c> and <c>retrieval.md</c>; returns their paths.</summary>
    public static IReadOnlyList<string> WriteReport(string directory, string model, IReadOnlyList<RetrievalResult> results)
    {
        Directory.CreateDirectory(directory);
        var json = Path.Combine(directory, "retrieval.json");
        File.WriteAllText(json, JsonSerializer.Serialize(new
        {
            model,
            results = results.Select(r => new
            {
                dataset = r.Dataset,
                images = r.Metrics.Images,
                texts = r.Metrics.Texts,
                skipped = r.Skipped,
                imageToText = r.Metrics.ImageToText.ToDictionary(kv => $"R@{kv.Key}", kv => kv.Value),
                textToImage = r.Metrics.TextToImage.ToDictionary(kv => $"R@{kv.Key}", kv => kv.Value),
            }),
        }, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        var md = new StringBuilder($"# Image–text retrieval\n\nModel: `{model}`\n\n");
        var ks = results.SelectMany(r => r.Metrics.ImageToText.Keys).Distinct().Order().ToList();
        md.AppendLine($"| dataset | images | texts | {string.Join(" | ", ks.Select(k => $"I→T R@{k}"))} | {string.Join(" | ", ks.Select(k => $"T→I R@{k}"))} |");
        md.AppendLine($"|---|---:|---:|{string.Concat(Enumerable.Repeat("---:|", 2 * ks.Count))}");
        foreach (var r in results)
            md.AppendLine($"| {r.Dataset} | {r.Metrics.Images} | {r.Metrics.Texts} | {string.Join(" | ", ks.Select(k => Pct(r.Metrics.ImageToText, k)))} | {string.Join(" | ", ks.Select(k => Pct(r.Metrics.TextToImage, k)))} |");
        var mdPath = Path.Combine(directory, "retrieval.md");
        File.WriteAllText(mdPath, md.ToString());
        return [json, mdPath];
    }

    static string Pct(IReadOnlyDictionary<int, double> d, int k) => d.TryGetValue(k, out var v) ? v.ToString("P1", CultureInfo.InvariantCulture) : "–";
}
