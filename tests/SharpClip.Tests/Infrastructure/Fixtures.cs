using System.Text.Json;

namespace SharpClip.Tests.Infrastructure;

/// <summary>
/// Locates the reference fixture set (<c>$CLIP_FIXTURES_DIR</c>, default <c>../shared/fixtures/reference</c> beside the
/// repository) and its manifest. Tests enumerate the manifest, so any fixture set of the same schema runs unchanged.
/// </summary>
public static class Fixtures
{
    static readonly Lazy<string> _repoRoot = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "SharpClip.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find SharpClip.sln above " + AppContext.BaseDirectory);
    });

    static readonly Lazy<JsonDocument> _manifest = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Dir, "manifest.json"))));

    public static string RepoRoot => _repoRoot.Value;

    public static string SharedDir => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string Dir =>
        Environment.GetEnvironmentVariable("CLIP_FIXTURES_DIR") is { Length: > 0 } d
            ? Path.GetFullPath(d)
            : Path.Combine(SharedDir, "fixtures", "reference");

    public static JsonElement Manifest => _manifest.Value.RootElement;

    public static string PathOf(string relative) => Path.Combine(Dir, relative);

    /// <summary>OpenAI's BPE vocabulary: <c>$CLIP_VOCAB</c> or <c>../shared/vocab/</c>.</summary>
    public static string VocabPath =>
        Environment.GetEnvironmentVariable("CLIP_VOCAB") is { Length: > 0 } v
            ? v
            : Path.Combine(SharedDir, "vocab", Manifest.GetProperty("vocab").GetProperty("file_name").GetString()!);

    public static string PromptsPath => Path.Combine(SharedDir, "prompts", "clip_prompts.json");

    /// <summary>xunit MemberData rows: the ids of the entries of a manifest array (e.g. "tokenizer.cases", "models").</summary>
    public static IEnumerable<object[]> Ids(string arrayPath) =>
        Array(arrayPath).Select(e => new object[] { e.GetProperty("id").GetString()! });

    public static IEnumerable<JsonElement> Array(string arrayPath)
    {
        var e = Manifest;
        foreach (var part in arrayPath.Split('.')) e = e.GetProperty(part);
        return e.EnumerateArray();
    }

    public static JsonElement Entry(string arrayPath, string id) =>
        Array(arrayPath).Single(e => e.GetProperty("id").GetString() == id);

    /// <summary>Files of the images a manifest section lists in <c>image_ids</c>, in its order.</summary>
    public static string[] ImagePaths(JsonElement section) => section.GetProperty("image_ids").EnumerateArray()
        .Select(id => PathOf(Entry("images", id.GetString()!).GetProperty("file").GetString()!)).ToArray();

    /// <summary>A string array field of a manifest entry (captions, classnames, templates).</summary>
    public static string[] Strings(JsonElement element, string field) =>
        element.GetProperty(field).EnumerateArray().Select(e => e.GetString()!).ToArray();
}
