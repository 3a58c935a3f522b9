using System.Text.Json;

namespace SharpClip.Data.Sources;

/// <summary>Caption handling shared by the readers: trimming, sidecar text and JSON caption values.</summary>
internal static class CaptionText
{
    /// <summary>Default field/column names tried in order when none is configured (open_clip's CSV uses filepath/title).</summary>
    public static readonly string[] DefaultImageNames = ["image", "filepath", "file", "path", "image_path", "url"];
    public static readonly string[] DefaultCaptionNames = ["captions", "caption", "title", "text"];

    /// <summary>Trimmed, non-empty captions.</summary>
    public static List<string> Clean(IEnumerable<string?> captions) =>
        captions.Select(c => c?.Trim()).Where(c => !string.IsNullOrEmpty(c)).Select(c => c!).ToList();

    /// <summary>A sidecar .txt / tar .txt member: one caption per non-blank line.</summary>
    public static List<string> FromLines(string text) => Clean(text.Split('\n'));

    /// <summary>
    /// Captions from a JSON value: a string, an array of strings, or an object holding one of <paramref name="fieldNames"/>
    /// (the first present wins) whose value is a string or an array of strings. Anything else throws, naming the field.
    /// </summary>
    public static List<string> FromJson(JsonElement value, IReadOnlyList<string> fieldNames, string file, long? line)
    {
        if (value.ValueKind == JsonValueKind.Object)
        {
            foreach (var name in fieldNames)
                if (value.TryGetProperty(name, out var v)) return FromValue(v, name, file, line);
            throw new DataFormatException(file, line, string.Join("|", fieldNames), "no caption field (expected one of: " + string.Join(", ", fieldNames) + ")");
        }
        return FromValue(value, null, file, line);
    }

    public static List<string> FromValue(JsonElement v, string? field, string file, long? line)
    {
        switch (v.ValueKind)
        {
            case JsonValueKind.String: return Clean([v.GetString()]);
            case JsonValueKind.Null: return [];
            case JsonValueKind.Array:
                var list = new List<string?>();
                int i = 0;
                foreach (var item in v.EnumerateArray())
                {
                    if (item.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                        throw new DataFormatException(file, line, $"{field ?? "captions"}[{i}]", $"expected a string, found {item.ValueKind}");
                    list.Add(item.GetString());
                    i++;
                }
                return Clean(list);
            default:
                throw new DataFormatException(file, line, field ?? "caption", $"expected a string or an array of strings, found {v.ValueKind}");
        }
    }

    /// <summary>Case-sensitive then case-insensitive lookup of a name in a header.</summary>
    public static int Find(IReadOnlyList<string> header, string name)
    {
        for (int i = 0; i < header.Count; i++) if (header[i] == name) return i;
        for (int i = 0; i < header.Count; i++) if (string.Equals(header[i], name, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }
}
