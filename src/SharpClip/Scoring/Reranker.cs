using SharpClip.Pipelines;

namespace SharpClip.Scoring;

/// <summary>One candidate image in a reranking: its place, where it came from, and how well it matches the caption.</summary>
/// <param name="Rank">1-based place after sorting (1 = best match).</param>
/// <param name="Index">Position in the caller's candidate list.</param>
/// <param name="Source">The image path.</param>
/// <param name="Cosine">Cosine similarity between the image and caption embeddings.</param>
/// <param name="Logit">exp(logit_scale)·cosine: the model's own logit, comparable with <c>sharpclip similarity</c>.</param>
public sealed record RankedCandidate(int Rank, int Index, string Source, double Cosine, double Logit);

/// <summary>A reranking's result: candidates best-first, and the inputs that could not be read (not ranked).</summary>
public sealed record RerankResult(string Prompt, IReadOnlyList<RankedCandidate> Ranked, IReadOnlyList<EmbeddingResult> Failed);

/// <summary>
/// Orders candidate images by similarity to one caption, the way DALL-E used CLIP to pick the best of many samples:
/// generation is cheap and noisy, and a contrastive model is a good judge of which sample fits the text.
/// </summary>
public static class Reranker
{
    /// <summary>Embeds the caption and the candidates and returns them best-first (all of them, or the <paramref name="top"/> best).</summary>
    public static RerankResult Rerank(ClipPipeline pipeline, string prompt, IReadOnlyList<string> images, int? top = null,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(prompt)) throw new ArgumentException("the prompt is empty", nameof(prompt));
        if (images.Count == 0) throw new ArgumentException("no candidate images", nameof(images));
        if (top is <= 0) throw new ArgumentOutOfRangeException(nameof(top), top, "--top must be positive");
        var text = pipeline.EmbedText(prompt);
        var results = pipeline.EmbedImages(images, true, progress, cancellationToken);
        var good = results.Where(r => r.Succeeded).ToList();
        double scale = LogitScaleOf(pipeline);
        var order = Order(text, good.Select(r => r.Vector!).ToList());
        var ranked = order.Take(top ?? int.MaxValue)
            .Select((o, place) => new RankedCandidate(place + 1, good[o.Index].Index, good[o.Index].Source, o.Cosine, scale * o.Cosine))
            .ToList();
        return new RerankResult(prompt, ranked, results.Where(r => !r.Succeeded).ToList());
    }

    /// <summary>
    /// The same for candidates held in memory as encoded images (a generator's PNGs before they are written), each
    /// named by <c>Name</c> in the result.
    /// </summary>
    public static RerankResult Rerank(ClipPipeline pipeline, string prompt, IReadOnlyList<(byte[] Data, string Name)> images, int? top = null,
        CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(prompt)) throw new ArgumentException("the prompt is empty", nameof(prompt));
        if (images.Count == 0) throw new ArgumentException("no candidate images", nameof(images));
        if (top is <= 0) throw new ArgumentOutOfRangeException(nameof(top), top, "--top must be positive");
        var text = pipeline.EmbedText(prompt);
        var results = pipeline.EmbedEncodedImages(images, true, cancellationToken);
        var good = results.Where(r => r.Succeeded).ToList();
        double scale = LogitScaleOf(pipeline);
        var ranked = Order(text, good.Select(r => r.Vector!).ToList()).Take(top ?? int.MaxValue)
            .Select((o, place) => new RankedCandidate(place + 1, good[o.Index].Index, good[o.Index].Source, o.Cosine, scale * o.Cosine))
            .ToList();
        return new RerankResult(prompt, ranked, results.Where(r => !r.Succeeded).ToList());
    }

    /// <summary>
    /// Candidates sorted by cosine similarity to <paramref name="text"/>, best first; ties keep input order so the
    /// result is deterministic. Vectors need not be normalised.
    /// </summary>
    public static IReadOnlyList<(int Index, double Cosine)> Order(ReadOnlySpan<float> text, IReadOnlyList<float[]> images)
    {
        var scored = new (int Index, double Cosine)[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            if (images[i].Length != text.Length)
                throw new ArgumentException($"candidate {i} has {images[i].Length} dimensions, the caption {text.Length}");
            scored[i] = (i, Cosine(text, images[i]));
        }
        return scored.OrderByDescending(s => s.Cosine).ThenBy(s => s.Index).ToList();
    }

    /// <summary>Cosine similarity in double precision; 0 when either vector is zero.</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += (double)a[i] * b[i]; na += (double)a[i] * a[i]; nb += (double)b[i] * b[i]; }
        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }

    internal static double LogitScaleOf(ClipPipeline pipeline)
    {
        using var scale = pipeline.Model.LogitScale.detach().to(TorchSharp.torch.ScalarType.Float64, TorchSharp.torch.CPU);
        return Math.Exp(scale.item<double>());
    }
}
