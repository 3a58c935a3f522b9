using System.Text;
using System.Text.Json;

namespace SharpClip.Data.Sources;

/// <summary>How to read a JSON Lines image-text file.</summary>
public sealed record JsonlSourceOptions
{
    /// <summary>Field holding the image path; null tries image, filepath, file, path, image_path, url in order.</summary>
    public string? ImageField { get; init; }

    /// <summary>Field holding a caption string or an array of captions; null tries captions, caption, title, text.</summary>
    public string? CaptionField { get; init; }

    /// <summary>Optional field used as the sample key (default: the image path as written).</summary>
    public string? KeyField { get; init; }

    /// <summary>Directory that relative image paths are resolved against; null means the JSONL file's directory.</summary>
    public string? ImageRoot { get; init; }
}

/// <summary>
/// Image-text pairs from JSON Lines: one object per line, e.g. <c>{"image": "a.jpg", "caption": "a cat"}</c> or
/// <c>{"image": "a.jpg", "captions": ["a cat", "a kitten"]}</c>. Blank lines are ignored. Each file is one shard.
/// A line that is not a JSON object, or lacks the image/caption field, throws; a missing image file or empty
/// captions skip the line and count it. Other scalar fields (an emoji's label and group) are kept in <see cref="ImageTextSample.Fields"/>.
/// </summary>
public sealed class JsonlSource : FileShardSource
{
    private readonly JsonlSourceOptions _options;

    public JsonlSource(string pathOrPattern, JsonlSourceOptions? options = null) : base(pathOrPattern, "JSONL")
    {
        _options = options ?? new JsonlSourceOptions();
    }

    protected override IEnumerable<ImageTextSample> ReadFile(string file, DataStats stats, CancellationToken ct)
    {
        var root = _options.ImageRoot is { } r ? Path.GetFullPath(r) : Path.GetDirectoryName(Path.GetFullPath(file))!;
        string[] imageNames = _options.ImageField is { } i ? [i] : CaptionText.DefaultImageNames;
        string[] captionNames = _options.CaptionField is { } c ? [c] : CaptionText.DefaultCaptionNames;
        using var text = new StreamReader(file, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        long lineNo = 0;
        while (text.ReadLine() is { } line)
        {
            lineNo++;
            ct.ThrowIfCancellationRequested();
            if (string.IsNullOrWhiteSpace(line)) continue;
            var sample = ParseLine(file, lineNo, line, root, imageNames, captionNames, stats);
            if (sample is not null) yield return sample;
        }
    }

    private ImageTextSample? ParseLine(string file, long lineNo, string line, string root, string[] imageNames, string[] captionNames, DataStats stats)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(line); }
        catch (JsonException e)
        {
            throw new DataFormatException(file, lineNo, null, $"not valid JSON at character {e.BytePositionInLine + 1}: {e.Message}", e);
        }
        using (doc)
        {
            var obj = doc.RootElement;
            if (obj.ValueKind != JsonValueKind.Object)
                throw new DataFormatException(file, lineNo, null, $"expected a JSON object, found {obj.ValueKind}");
            var (imageField, imageValue) = Field(file, lineNo, obj, imageNames, "image");
            if (imageValue.ValueKind != JsonValueKind.String)
                throw new DataFormatException(file, lineNo, imageField, $"expected a path string, found {imageValue.ValueKind}");
            var (captionField, captionValue) = Field(file, lineNo, obj, captionNames, "caption");
            var captions = CaptionText.FromValue(captionValue, captionField, file, lineNo);
            string path = imageValue.GetString()!.Trim();
            string key = path;
            if (_options.KeyField is { } kf && obj.TryGetProperty(kf, out var kv))
                key = kv.ValueKind == JsonValueKind.String ? kv.GetString()! : kv.GetRawText();

            var where = $"{Path.GetFileName(file)} line {lineNo}";
            if (path.Length == 0) { stats.Skip(SkipReason.MissingImage, $"empty image path ({where})"); return null; }
            var full = Path.GetFullPath(path, root);
            if (!File.Exists(full)) { stats.Skip(SkipReason.MissingImage, $"{full} ({where})"); return null; }
            if (captions.Count == 0) { stats.Skip(SkipReason.EmptyCaption, $"{path} ({where})"); return null; }
            return new ImageTextSample(key, new ImageFile(full), captions) { Fields = OtherFields(obj, imageField, captionField) };
        }
    }

    /// <summary>The object's string, number and boolean fields other than the image and caption ones (<see cref="ImageTextSample.Fields"/>).</summary>
    private static IReadOnlyDictionary<string, string> OtherFields(JsonElement obj, string imageField, string captionField)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in obj.EnumerateObject())
        {
            if (p.Name == imageField || p.Name == captionField) continue;
            if (p.Value.ValueKind == JsonValueKind.String) fields[p.Name] = p.Value.GetString()!;
            else if (p.Value.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False) fields[p.Name] = p.Value.GetRawText();
        }
        return fields;
    }

    private static (string Name, JsonElement Value) Field(string file, long line, JsonElement obj, string[] names, string role)
    {
        foreach (var n in names)
            if (obj.TryGetProperty(n, out var v)) return (n, v);
        var present = string.Join(", ", obj.EnumerateObject().Select(p => p.Name));
        throw new DataFormatException(file, line, string.Join("|", names), $"no {role} field (object has: {present})");
    }
}
