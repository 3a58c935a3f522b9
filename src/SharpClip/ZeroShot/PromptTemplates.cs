using System.Text.Json;

namespace SharpClip.ZeroShot;

/// <summary>
/// Class names and prompt templates for zero-shot classification. Templates contain <c>{}</c> where the class name
/// goes ("a photo of a {}."); several templates are averaged (prompt ensembling), which the CLIP paper found worth
/// several points of accuracy over the bare class name.
/// </summary>
public sealed record PromptTemplates(IReadOnlyList<string> Templates)
{
    /// <summary>The bare "{}" template: the class name alone.</summary>
    public static PromptTemplates ClassNameOnly { get; } = new(["{}"]);

    /// <summary>The single prompt the CLIP paper starts from.</summary>
    public static PromptTemplates PhotoOf { get; } = new(["a photo of a {}."]);

    /// <summary>Fills every template with <paramref name="className"/>; Python's <c>str.format</c> with one positional field.</summary>
    public IEnumerable<string> For(string className) => Templates.Select(t => t.Replace("{}", className));

    /// <summary>
    /// The templates a user names with one string: one of the CLIP paper's prompt sets by name (<c>imagenet</c>, the
    /// paper's 80; <c>cifar10</c>, ...: <see cref="PaperPrompts"/>, inside the library), a templates file
    /// (<see cref="Load"/>; <c>FILE#DATASET</c> picks one dataset of a multi-dataset file, so one string says it all),
    /// or one template inline containing <c>{}</c>. Null gives null: the caller's default (the data's own prompts, or
    /// <see cref="PhotoOf"/>).
    /// </summary>
    /// <param name="value">What the user typed (the <c>--templates</c> value).</param>
    /// <param name="dataset">Which dataset's templates to take from a multi-dataset file (not used for a named set; a <c>#DATASET</c> in <paramref name="value"/> wins).</param>
    public static PromptTemplates? Resolve(string? value, string? dataset = null)
    {
        if (value is null) return null;
        if (PaperPrompts.Find(value) is { } set) return set.Templates;
        if (File.Exists(value)) return Load(value, dataset);
        if (value.LastIndexOf('#') is var hash and > 0 && File.Exists(value[..hash])) return Load(value[..hash], value[(hash + 1)..]);
        if (value.Contains("{}")) return new PromptTemplates([value]);
        throw new FileNotFoundException(
            $"--templates {value}: not one of the CLIP paper's prompt sets ({string.Join(", ", PaperPrompts.Names)}), not a file, and not a template containing {{}}");
    }

    /// <summary>
    /// Reads templates from a file: a JSON array of strings, a JSON object in the format of the CLIP paper's prompt
    /// collection (<c>{dataset: {classes, templates}}</c>, pick the dataset with <paramref name="dataset"/>), or plain text
    /// with one template per line.
    /// </summary>
    public static PromptTemplates Load(string path, string? dataset = null) => LoadWithClasses(path, dataset).Templates;

    /// <summary>As <see cref="Load"/>, also returning the dataset's class names when the file has them.</summary>
    public static (PromptTemplates Templates, IReadOnlyList<string>? Classes) LoadWithClasses(string path, string? dataset = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such templates file", path);
        var text = File.ReadAllText(path);
        var trimmed = text.TrimStart();
        if (!trimmed.StartsWith('[') && !trimmed.StartsWith('{'))
        {
            var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0).ToList();
            return (Validate(path, lines), null);
        }
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message})"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Array) return (Validate(path, Strings(path, root, "templates")), null);
            JsonElement set;
            if (root.TryGetProperty("templates", out _)) set = root;
            else
            {
                var names = root.EnumerateObject().Select(p => p.Name).ToList();
                var key = dataset ?? (names.Count == 1 ? names[0] : null)
                    ?? throw new ArgumentException($"{path}: holds prompts for {names.Count} datasets ({string.Join(", ", names.Take(8))}...); name one as {path}#{names[0]}");
                var match = names.FirstOrDefault(n => string.Equals(n, key, StringComparison.OrdinalIgnoreCase))
                    ?? throw new KeyNotFoundException($"{path}: no dataset '{key}' (have {string.Join(", ", names)})");
                set = root.GetProperty(match);
            }
            if (!set.TryGetProperty("templates", out var templates))
                throw new InvalidDataException($"{path}: missing field 'templates'");
            IReadOnlyList<string>? classes = null;
            if (set.TryGetProperty("classes", out var cls))
                classes = cls.EnumerateArray()
                    .Select(c => c.ValueKind == JsonValueKind.Array ? c[0].GetString()! : c.GetString()!) // several names per class: the first
                    .ToList();
            return (Validate(path, Strings(path, templates, "templates")), classes);
        }
    }

    static List<string> Strings(string path, JsonElement array, string field)
    {
        if (array.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{path}: field '{field}' must be an array of strings");
        return array.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String
            ? e.GetString()!
            : throw new InvalidDataException($"{path}: field '{field}' holds a {e.ValueKind}, expected strings")).ToList();
    }

    static PromptTemplates Validate(string path, List<string> templates)
    {
        if (templates.Count == 0) throw new InvalidDataException($"{path}: no templates");
        var bad = templates.FirstOrDefault(t => !t.Contains("{}"));
        if (bad != null) throw new InvalidDataException($"{path}: template \"{bad}\" has no {{}} for the class name");
        return new PromptTemplates(templates);
    }
}
