using System.Text.Json;
using SharpClip.Tests.Infrastructure;

namespace SharpClip.Tests.Generation.Dalle;

/// <summary>
/// Locates the text-to-image reference fixtures (<c>$GENERATIVE_FIXTURES_DIR</c>, default
/// <c>../shared/fixtures/generative</c> beside the repository) and its manifest. Tests enumerate the manifest, so the
/// hidden set (same schema, other shapes) runs unchanged.
/// </summary>
internal static class GenerativeFixtures
{
    static readonly Lazy<JsonDocument> _manifest = new(() => JsonDocument.Parse(File.ReadAllBytes(System.IO.Path.Combine(Dir, "manifest.json"))));

    public static string Dir =>
        Environment.GetEnvironmentVariable("GENERATIVE_FIXTURES_DIR") is { Length: > 0 } d
            ? System.IO.Path.GetFullPath(d)
            : System.IO.Path.Combine(Fixtures.SharedDir, "fixtures", "generative");

    public static JsonElement Manifest => _manifest.Value.RootElement;

    public static string PathOf(string relative) => System.IO.Path.Combine(Dir, relative);

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
