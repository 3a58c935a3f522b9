using System.Text.Json;
using System.Text.Json.Nodes;

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

    static readonly Lazy<JsonDocument> _manifest = new(() => MergedManifest(Dir, ExtraDirs));

    public static string RepoRoot => _repoRoot.Value;

    public static string SharedDir => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string Dir =>
        Environment.GetEnvironmentVariable("CLIP_FIXTURES_DIR") is { Length: > 0 } d
            ? Path.GetFullPath(d)
            : Path.Combine(SharedDir, "fixtures", "reference");

    /// <summary>
    /// The main manifest with the <c>models</c> and <c>images</c> of the repository's own fixture sets joined to it.
    /// </summary>
    public static JsonElement Manifest => _manifest.Value.RootElement;

    /// <summary>
    /// The repository's own fixture sets, same schema (<c>tests/fixtures/*/manifest.json</c>, each made by the
    /// generator script beside it with the reference's code): models and code paths the main set happens to skip,
    /// such as ModifiedResNet blocks with identity shortcuts. They run beside whichever main set is in use.
    /// </summary>
    public static IReadOnlyList<string> ExtraDirs =>
        Directory.Exists(Path.Combine(RepoRoot, "tests", "fixtures"))
            ? Directory.GetDirectories(Path.Combine(RepoRoot, "tests", "fixtures"))
                .Where(d => File.Exists(Path.Combine(d, "manifest.json"))).Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>
    /// Joins the extra sets' models and images to the main manifest, their file paths made absolute (so
    /// <see cref="PathOf"/> resolves them whatever the main folder). Ids must stay unique across sets.
    /// </summary>
    static JsonDocument MergedManifest(string mainDir, IEnumerable<string> extraDirs)
    {
        var main = JsonNode.Parse(File.ReadAllBytes(Path.Combine(mainDir, "manifest.json")))!.AsObject();
        foreach (var dir in extraDirs)
        {
            var extra = JsonNode.Parse(File.ReadAllBytes(Path.Combine(dir, "manifest.json")))!.AsObject();
            Join(main, extra, "images", dir, "file");
            Join(main, extra, "models", dir, "weights", "outputs");
        }
        return JsonDocument.Parse(main.ToJsonString());
    }

    /// <summary>
    /// A <c>.gz</c> fixture file (the repository keeps files under 2 MiB) unpacked once into the temp folder, keyed by
    /// the packed file's hash so a regenerated fixture never meets a stale copy; other paths as they are.
    /// </summary>
    static string Unpacked(string path)
    {
        if (!path.EndsWith(".gz", StringComparison.Ordinal)) return path;
        var packed = File.ReadAllBytes(path);
        var key = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(packed))[..16];
        var target = Path.Combine(Path.GetTempPath(), "sharpclip-fixtures", key, Path.GetFileNameWithoutExtension(path));
        if (File.Exists(target)) return target;
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var partial = $"{target}.{Environment.ProcessId}.partial";
        using (var input = new System.IO.Compression.GZipStream(new MemoryStream(packed), System.IO.Compression.CompressionMode.Decompress))
        using (var output = File.Create(partial))
            input.CopyTo(output);
        File.Move(partial, target, overwrite: true); // concurrent test runs write the same bytes
        return target;
    }

    static void Join(JsonObject main, JsonObject extra, string array, string dir, params string[] pathFields)
    {
        var target = main[array]!.AsArray();
        var ids = target.Select(e => e!["id"]!.GetValue<string>()).ToHashSet();
        foreach (var entry in extra[array]!.AsArray().Select(e => e!.DeepClone().AsObject()))
        {
            var id = entry["id"]!.GetValue<string>();
            if (!ids.Add(id)) throw new InvalidOperationException($"{dir}: {array} id '{id}' is also in another fixture set");
            foreach (var field in pathFields) entry[field] = Unpacked(Path.Combine(dir, entry[field]!.GetValue<string>()));
            target.Add(entry);
        }
    }

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

    /// <summary>The first <c>models</c> entry that is (or is not) a Vision Transformer, from its manifest config
    /// (<c>vision_patch_size</c> null for a ModifiedResNet), without loading any weights.</summary>
    public static string FirstModel(bool visionTransformer) => Array("models").First(e =>
        (e.GetProperty("config").GetProperty("vision_patch_size").ValueKind != JsonValueKind.Null) == visionTransformer)
        .GetProperty("id").GetString()!;

    /// <summary>Files of the images a manifest section lists in <c>image_ids</c>, in its order.</summary>
    public static string[] ImagePaths(JsonElement section) => section.GetProperty("image_ids").EnumerateArray()
        .Select(id => PathOf(Entry("images", id.GetString()!).GetProperty("file").GetString()!)).ToArray();

    /// <summary>A string array field of a manifest entry (captions, classnames, templates).</summary>
    public static string[] Strings(JsonElement element, string field) =>
        element.GetProperty(field).EnumerateArray().Select(e => e.GetString()!).ToArray();
}
