using System.Text;
using SharpClip.Data;
using SharpClip.Data.Sources;
using SharpClip.Pipelines;

namespace SharpClip.Scoring;

/// <summary>One image–caption pair from a pairs file.</summary>
/// <param name="Line">1-based line of the row in the file (for messages).</param>
/// <param name="Image">Absolute image path.</param>
/// <param name="Caption">The caption, trimmed.</param>
public sealed record ImageCaptionPair(long Line, string Image, string Caption);

/// <summary>A pair's CLIPScore, or why it has none (an unreadable image is reported, not fatal).</summary>
public sealed record ClipScoreResult(ImageCaptionPair Pair, double? Cosine, double? Score, string? Error);

/// <summary>Per-pair scores and the corpus-level mean over the pairs that could be scored.</summary>
public sealed record ClipScoreReport(IReadOnlyList<ClipScoreResult> Pairs, double Mean, int Scored, int Failed);

/// <summary>
/// CLIPScore (Hessel et al., 2021): <c>w · max(cos(image, caption), 0)</c> with w = 2.5, a reference-free measure of
/// how well a caption describes an image. The weight only stretches the range (cosines of real pairs rarely pass 0.4);
/// the clamp makes unrelated pairs score 0 rather than negative. The corpus score is the mean over pairs.
/// </summary>
public static class ClipScore
{
    /// <summary>The paper's rescaling weight.</summary>
    public const double Weight = 2.5;

    public static double FromCosine(double cosine, double weight = Weight) => weight * Math.Max(cosine, 0);

    /// <summary>
    /// Reads pairs from a CSV/TSV with a header: an image column (image, filepath, file, path, image_path) and a caption
    /// column (caption, captions, title, text). Every row is one pair (an image may appear on several rows); relative
    /// paths are resolved against the file's folder. Missing files are kept and reported when scoring.
    /// </summary>
    public static IReadOnlyList<ImageCaptionPair> ReadPairs(string csvPath, string? imageColumn = null, string? captionColumn = null)
    {
        if (!File.Exists(csvPath)) throw new FileNotFoundException($"{csvPath}: no such pairs file", csvPath);
        char delimiter = Path.GetExtension(csvPath).ToLowerInvariant() is ".tsv" or ".tab" ? '\t' : ',';
        var root = Path.GetDirectoryName(Path.GetFullPath(csvPath))!;
        using var text = new StreamReader(csvPath, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var csv = new CsvRecordReader(text, csvPath, delimiter, quoting: true);
        var header = (csv.Next() ?? throw new DataFormatException(csvPath, 1, null, "empty file (expected a header row image,caption)"))
            .Select(h => h.Trim()).ToList();
        csv.Header = header;
        int imageCol = Column(csvPath, header, imageColumn, CaptionText.DefaultImageNames, "image");
        int captionCol = Column(csvPath, header, captionColumn, CaptionText.DefaultCaptionNames, "caption");
        var pairs = new List<ImageCaptionPair>();
        while (csv.Next() is { } row)
        {
            if (row.Count <= Math.Max(imageCol, captionCol))
                throw new DataFormatException(csvPath, csv.RecordLine, null, $"row has {row.Count} field(s), expected at least {Math.Max(imageCol, captionCol) + 1}");
            var image = row[imageCol].Trim();
            var caption = row[captionCol].Trim();
            if (image.Length == 0) throw new DataFormatException(csvPath, csv.RecordLine, header[imageCol], "empty image path");
            if (caption.Length == 0) throw new DataFormatException(csvPath, csv.RecordLine, header[captionCol], "empty caption");
            pairs.Add(new ImageCaptionPair(csv.RecordLine, Path.GetFullPath(image, root), caption));
        }
        if (pairs.Count == 0) throw new DataFormatException(csvPath, 1, null, "no pairs after the header");
        return pairs;
    }

    static int Column(string file, List<string> header, string? configured, string[] defaults, string role)
    {
        foreach (var name in configured is null ? defaults : [configured])
        {
            int i = CaptionText.Find(header, name);
            if (i >= 0) return i;
        }
        throw new DataFormatException(file, 1, role, $"no {role} column ({(configured ?? string.Join("/", defaults))}) in the header (columns: {string.Join(", ", header)})");
    }

    /// <summary>
    /// Scores every pair. Each distinct image and caption is embedded once; captions longer than the context are
    /// truncated (as CLIPScore's reference implementation does).
    /// </summary>
    public static ClipScoreReport Compute(ClipPipeline pipeline, IReadOnlyList<ImageCaptionPair> pairs, double weight = Weight,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        var images = pairs.Select(p => p.Image).Distinct().ToList();
        var captions = pairs.Select(p => p.Caption).Distinct().ToList();
        var imageIndex = images.Select((s, i) => (s, i)).ToDictionary(t => t.s, t => t.i);
        var captionIndex = captions.Select((s, i) => (s, i)).ToDictionary(t => t.s, t => t.i);
        var embedded = pipeline.EmbedImages(images, true, progress, cancellationToken);
        using var texts = pipeline.EmbedTexts(captions, normalize: true, truncate: true, cancellationToken: cancellationToken);
        var t = texts.data<float>().ToArray();
        int dim = pipeline.EmbeddingDimension;
        var results = new List<ClipScoreResult>(pairs.Count);
        foreach (var pair in pairs)
        {
            var image = embedded[imageIndex[pair.Image]];
            if (!image.Succeeded) { results.Add(new ClipScoreResult(pair, null, null, image.Error)); continue; }
            double cos = Reranker.Cosine(image.Vector, t.AsSpan(captionIndex[pair.Caption] * dim, dim));
            results.Add(new ClipScoreResult(pair, cos, FromCosine(cos, weight), null));
        }
        var scored = results.Where(r => r.Score.HasValue).ToList();
        return new ClipScoreReport(results, scored.Count == 0 ? double.NaN : scored.Average(r => r.Score!.Value), scored.Count, results.Count - scored.Count);
    }
}
