using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpClip.Files;

/// <summary>Small JSON file helpers shared by the folder formats.</summary>
internal static class JsonFiles
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes indented JSON through a temp file + rename, so a reader never sees half a file.</summary>
    public static void WriteAtomic(string path, JsonNode json)
    {
        var full = Path.GetFullPath(path);
        var tmp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllText(tmp, json.ToJsonString(Indented) + "\n", new UTF8Encoding(false));
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>
    /// The integer field <paramref name="name"/> of a config object, or <paramref name="fallback"/> when it is absent or
    /// not a number (a non-integer number throws <see cref="FormatException"/>, which the config readers turn into an error naming the file).
    /// </summary>
    public static int IntOr(JsonElement json, string name, int fallback) =>
        json.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : fallback;

    /// <summary>Parses a JSON file; malformed JSON becomes an <see cref="InvalidDataException"/> naming the file.</summary>
    public static JsonDocument Read(string path)
    {
        try { return JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e); }
    }
}
