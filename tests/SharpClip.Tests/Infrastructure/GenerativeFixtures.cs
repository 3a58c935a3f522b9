using System.Text.Json;

namespace SharpClip.Tests.Infrastructure;

/// <summary>
/// Locates the text-to-image reference fixtures (<c>$GENERATIVE_FIXTURES_DIR</c>, default
/// <c>../shared/fixtures/generative</c> beside the repository) and enumerates its manifest, so any fixture set of the
/// same schema (the hidden one has other shapes, step counts and prompts) runs unchanged; beside them the
/// repository's own autoencoder sets (<c>tests/fixtures-generative/*/manifest.json</c>, <c>autoencoders</c> records
/// with the same fields, made by the reference's code with the script in each folder).
/// </summary>
public static class GenerativeFixtures
{
    static readonly Lazy<JsonDocument> _manifest = new(() => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Dir, "manifest.json"))));

    public static string Dir =>
        Environment.GetEnvironmentVariable("GENERATIVE_FIXTURES_DIR") is { Length: > 0 } d
            ? Path.GetFullPath(d)
            : Path.Combine(Fixtures.SharedDir, "fixtures", "generative");

    public static JsonElement Manifest => _manifest.Value.RootElement;

    public static string PathOf(string relative) => Path.Combine(Dir, relative);

    /// <summary>The BPE vocabulary the prompts need: <c>$CLIP_VOCAB</c> or <c>../shared/vocab/</c> + the manifest's file name.</summary>
    public static string VocabPath =>
        Environment.GetEnvironmentVariable("CLIP_VOCAB") is { Length: > 0 } v
            ? v
            : Path.Combine(Fixtures.SharedDir, "vocab", Manifest.GetProperty("vocab").GetProperty("file_name").GetString()!);

    /// <summary>The <c>stable_diffusion</c> records.</summary>
    public static IEnumerable<JsonElement> StableDiffusionModels =>
        Manifest.TryGetProperty("stable_diffusion", out var a) ? a.EnumerateArray() : [];

    public static JsonElement StableDiffusionModel(string id) =>
        StableDiffusionModels.Single(m => m.GetProperty("id").GetString() == id);

    /// <summary>xunit rows (model id) of every SD model.</summary>
    public static IEnumerable<object[]> StableDiffusionModelIds() =>
        StableDiffusionModels.Select(m => new object[] { m.GetProperty("id").GetString()! });

    /// <summary>xunit rows (model id, case id) of every SD case of a kind, so the display name carries the model id.</summary>
    public static IEnumerable<object[]> StableDiffusionCases(string kind) =>
        from m in StableDiffusionModels
        from c in m.GetProperty("cases").EnumerateArray()
        where c.GetProperty("kind").GetString() == kind
        select new object[] { m.GetProperty("id").GetString()!, c.GetProperty("id").GetString()! };

    public static JsonElement Case(JsonElement model, string caseId) =>
        model.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("id").GetString() == caseId);

    static readonly Lazy<List<(string Dir, JsonElement Record)>> _extraAutoencoders = new(() =>
    {
        var root = Path.Combine(Fixtures.RepoRoot, "tests", "fixtures-generative");
        if (!Directory.Exists(root)) return [];
        return Directory.GetDirectories(root).Order(StringComparer.Ordinal)
            .Where(d => File.Exists(Path.Combine(d, "manifest.json")))
            .SelectMany(d => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(d, "manifest.json"))).RootElement
                .GetProperty("autoencoders").EnumerateArray().Select(r => (d, r)))
            .ToList();
    });

    /// <summary>xunit rows: every record with an autoencoder — the Stable Diffusion ones and the repository's extra sets.</summary>
    public static IEnumerable<object[]> AutoencoderIds() =>
        StableDiffusionModelIds().Concat(_extraAutoencoders.Value.Select(e => new object[] { e.Record.GetProperty("id").GetString()! }));

    /// <summary>The Stable Diffusion or extra autoencoder record with this id, and the folder its paths are relative to.</summary>
    public static (string Dir, JsonElement Record) Record(string id)
    {
        var main = StableDiffusionModels.Where(e => e.GetProperty("id").GetString() == id).ToList();
        if (main.Count == 1) return (Dir, main[0]);
        return _extraAutoencoders.Value.Single(e => e.Record.GetProperty("id").GetString() == id);
    }

    /// <summary>The records of a top-level array (<c>dalle_dvae</c>, <c>stable_diffusion</c>); none when the set lacks it.</summary>
    public static IEnumerable<JsonElement> Records(string array) =>
        Manifest.TryGetProperty(array, out var a) ? a.EnumerateArray() : [];

    public static JsonElement Record(string array, string id) => Records(array).Single(r => r.GetProperty("id").GetString() == id);

    /// <summary>xunit rows (model id, case id) for every case of every record of <paramref name="array"/> whose kind is
    /// one of <paramref name="kinds"/>.</summary>
    public static IEnumerable<object[]> Cases(string array, params string[] kinds) =>
        from r in Records(array)
        from c in r.GetProperty("cases").EnumerateArray()
        where kinds.Contains(c.GetProperty("kind").GetString())
        select new object[] { r.GetProperty("id").GetString()!, c.GetProperty("id").GetString()! };
}
