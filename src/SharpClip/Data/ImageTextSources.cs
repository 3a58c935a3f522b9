using SharpClip.Data.Sources;
using SharpClip.Data.Synthetic;

namespace SharpClip.Data;

/// <summary>Per-format settings for <see cref="ImageTextSources.Open"/>; null members mean the format's defaults.</summary>
public sealed record DataSourceOptions
{
    public CsvSourceOptions? Csv { get; init; }
    public JsonlSourceOptions? Jsonl { get; init; }
    public FolderSourceOptions? Folder { get; init; }
    public TarShardSourceOptions? Tar { get; init; }
    public SyntheticShapesOptions? Synthetic { get; init; }
}

/// <summary>Opens a dataset from the one string a user types (a CLI flag or a config value).</summary>
public static class ImageTextSources
{
    /// <summary>
    /// By form: <c>synthetic:shapes[:train|validation|heldout]</c> → the built-in set; <c>emoji:train|val|test:STYLE</c>
    /// → the prepared emoji data in its default folder (<c>sharpclip datasets prepare emoji</c>); an existing directory → a
    /// folder with sidecars; otherwise by extension (braces and wildcards allowed): .csv/.tsv/.tab → CSV,
    /// .jsonl/.ndjson → JSON Lines, .tar/.tar.gz/.tgz → WebDataset shards. Throws naming the spec when none fits.
    /// </summary>
    public static IImageTextSource Open(string spec, DataSourceOptions? options = null)
    {
        options ??= new DataSourceOptions();
        if (spec.StartsWith("synthetic:", StringComparison.OrdinalIgnoreCase))
        {
            var parts = spec.Split(':');
            if (parts.Length is < 2 or > 3 || !parts[1].Equals("shapes", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"unknown synthetic dataset '{spec}' (expected synthetic:shapes[:train|validation|heldout])");
            var split = parts.Length == 2 ? SyntheticSplit.Train : parts[2].ToLowerInvariant() switch
            {
                "train" => SyntheticSplit.Train,
                "validation" or "val" => SyntheticSplit.Validation,
                "heldout" or "held-out" or "test" => SyntheticSplit.HeldOut,
                _ => throw new ArgumentException($"unknown synthetic split '{parts[2]}' in '{spec}' (train, validation or heldout)"),
            };
            return new SyntheticShapes(options.Synthetic).Split(split);
        }
        if (spec.StartsWith("emoji:", StringComparison.OrdinalIgnoreCase)) return Open(EmojiPath(spec), options);
        if (!PathPattern.IsPattern(spec) && Directory.Exists(spec)) return new FolderSource(spec, options.Folder);
        var lower = spec.ToLowerInvariant();
        if (lower.EndsWith(".csv") || lower.EndsWith(".tsv") || lower.EndsWith(".tab")) return new CsvSource(spec, options.Csv);
        if (lower.EndsWith(".jsonl") || lower.EndsWith(".ndjson")) return new JsonlSource(spec, options.Jsonl);
        if (lower.EndsWith(".tar") || lower.EndsWith(".tar.gz") || lower.EndsWith(".tgz")) return new TarShardSource(spec, options.Tar);
        if (!PathPattern.IsPattern(spec) && !File.Exists(spec)) throw new FileNotFoundException($"dataset not found: '{spec}'", spec);
        throw new ArgumentException($"cannot tell the dataset format of '{spec}': expected a folder, .csv/.tsv, .jsonl, .tar/.tar.gz shards or synthetic:shapes");
    }

    /// <summary>The file an <c>emoji:</c> spec names, checked to exist (the data is prepared, not shipped).</summary>
    static string EmojiPath(string spec)
    {
        var dir = Builtin.Emoji.EmojiDataset.DefaultDirectory;
        var parts = spec.Split(':');
        var path = parts switch
        {
            [_, "train"] => Path.Combine(dir, "train.jsonl"),
            [_, "val" or "validation"] => Path.Combine(dir, "val.jsonl"),
            [_, "test", var style] when style.Length > 0 => Builtin.Emoji.EmojiDataset.TestJsonl(dir, style),
            _ => throw new ArgumentException($"unknown emoji dataset '{spec}' (expected emoji:train, emoji:val or emoji:test:STYLE)"),
        };
        if (!File.Exists(path))
            throw new FileNotFoundException($"{spec}: {path} does not exist; run `sharpclip datasets prepare emoji` first", path);
        return path;
    }
}
