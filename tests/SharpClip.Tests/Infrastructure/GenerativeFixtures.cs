using System.Text.Json;

namespace SharpClip.Tests.Infrastructure;

/// <summary>
/// Locates the text-to-image reference fixtures (<c>$GENERATIVE_FIXTURES_DIR</c>, default
/// <c>../shared/fixtures/generative</c> beside the repository) and enumerates its manifest, so any fixture set of the
/// same schema (the hidden one has other shapes, step counts and prompts) runs unchanged.
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
}
