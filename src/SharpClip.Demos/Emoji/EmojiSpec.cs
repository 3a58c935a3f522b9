using SharpClip.Data;

namespace SharpClip.Demos.Emoji;

/// <summary>
/// The <c>emoji:</c> spec scheme: <c>emoji:train</c>, <c>emoji:val</c> or <c>emoji:test:STYLE</c> name the JSON Lines
/// files of the prepared emoji data in its default folder (<c>sharpclip datasets prepare emoji</c>).
/// </summary>
public static class EmojiSpec
{
    /// <summary>The spec prefix.</summary>
    public const string Scheme = "emoji";

    /// <summary>Opens the file an <c>emoji:</c> spec names as image-text pairs.</summary>
    public static IImageTextSource Open(string spec, DataSourceOptions options) => ImageTextSources.Open(PathOf(spec), options);

    /// <summary>The file an <c>emoji:</c> spec names, checked to exist (the data is prepared, not shipped).</summary>
    public static string PathOf(string spec)
    {
        var dir = EmojiDataset.DefaultDirectory;
        var parts = spec.Split(':');
        var path = parts switch
        {
            [_, "train"] => Path.Combine(dir, "train.jsonl"),
            [_, "val" or "validation"] => Path.Combine(dir, "val.jsonl"),
            [_, "test", var style] when style.Length > 0 => EmojiDataset.TestJsonl(dir, style),
            _ => throw new ArgumentException($"unknown emoji dataset '{spec}' (expected emoji:train, emoji:val or emoji:test:STYLE)"),
        };
        if (!File.Exists(path))
            throw new FileNotFoundException($"{spec}: {path} does not exist; run `sharpclip datasets prepare emoji` first", path);
        return path;
    }
}
