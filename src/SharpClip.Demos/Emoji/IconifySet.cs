using System.Globalization;
using System.Text.Json;
using SharpClip.Data;

namespace SharpClip.Demos.Emoji;

/// <summary>
/// An Iconify JSON icon set (<c>icons.json</c>: SVG bodies with a shared or per-icon view box; <c>chars.json</c>:
/// code points → icon name). Turns each emoji's icon into a standalone SVG document for the renderer.
/// </summary>
public static class IconifySet
{
    /// <summary>Normalised code-point key → SVG document, for every code point in <paramref name="charsJson"/> whose icon exists.</summary>
    public static Dictionary<string, string> SvgsByCodePoints(byte[] iconsJson, byte[] charsJson, string name)
    {
        using var icons = Parse(iconsJson, $"{name}/icons.json");
        using var chars = Parse(charsJson, $"{name}/chars.json");
        var root = icons.RootElement;
        if (!root.TryGetProperty("icons", out var bodies) || bodies.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{name}/icons.json: missing object 'icons'");
        double defaultWidth = Number(root, "width") ?? 16, defaultHeight = Number(root, "height") ?? 16;
        var aliases = root.TryGetProperty("aliases", out var a) && a.ValueKind == JsonValueKind.Object ? a : default;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in chars.RootElement.EnumerateObject())
        {
            var iconName = entry.Value.GetString();
            if (iconName is null) continue;
            // Aliases point at a parent icon (possibly via another alias); a few flip or rotate it, which we ignore.
            for (int hops = 0; hops < 8 && !bodies.TryGetProperty(iconName, out _); hops++)
            {
                if (aliases.ValueKind != JsonValueKind.Object || !aliases.TryGetProperty(iconName, out var alias) || !alias.TryGetProperty("parent", out var parent)) break;
                iconName = parent.GetString()!;
            }
            if (!bodies.TryGetProperty(iconName, out var icon) || !icon.TryGetProperty("body", out var body)) continue;
            string key;
            try { key = EmojiCodes.Normalize(entry.Name); }
            catch (FormatException) { continue; }
            double left = Number(icon, "left") ?? 0, top = Number(icon, "top") ?? 0;
            double width = Number(icon, "width") ?? defaultWidth, height = Number(icon, "height") ?? defaultHeight;
            result.TryAdd(key, Document(body.GetString() ?? "", left, top, width, height));
        }
        return result;
    }

    /// <summary>An SVG document around an Iconify body.</summary>
    public static string Document(string body, double left, double top, double width, double height) =>
        string.Create(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"{width}\" height=\"{height}\" viewBox=\"{left} {top} {width} {height}\">{body}</svg>");

    static double? Number(JsonElement e, string property) =>
        e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    static JsonDocument Parse(byte[] json, string name)
    {
        try { return JsonDocument.Parse(json); }
        catch (JsonException e) { throw new InvalidDataException($"{name}: not valid JSON ({e.Message})", e); }
    }
}
