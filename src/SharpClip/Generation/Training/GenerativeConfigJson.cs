using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpClip.Generation.Training;

/// <summary>The JSON conventions of CLIP's training config (snake_case, enums as strings, unknown fields are errors), for the generative training configs (dVAE, DALL-E, latent diffusion).</summary>
public static class GenerativeConfigJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>Reads a config; a missing file, bad JSON or an unknown field is one error naming the file (and the field).</summary>
    public static T Load<T>(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"config not found: {path}", path);
        try { return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options) ?? throw new InvalidDataException($"{path}: empty config"); }
        catch (JsonException e)
        {
            var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" (field '{e.Path.TrimStart('$', '.')}')";
            var unknown = System.Text.RegularExpressions.Regex.Match(e.Message, "The JSON property '([^']+)' could not be mapped");
            throw new InvalidDataException(unknown.Success ? $"{path}: unknown field '{unknown.Groups[1].Value}'" : $"{path}: not a valid config{field}: {e.Message}", e);
        }
    }

    /// <summary>Field checks that throw <see cref="ArgumentException"/> naming the snake_case field.</summary>
    public sealed class Checker(string what)
    {
        public void Require(bool ok, string field, string why)
        {
            if (!ok) throw new ArgumentException($"{what} field '{JsonNamingPolicy.SnakeCaseLower.ConvertName(field)}': {why}");
        }
    }
}
