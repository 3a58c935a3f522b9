using System.Text.Json;
using SharpClip.Files;
using SharpClip.Tests.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Diffusion.Autoencoder;

/// <summary>
/// Locates the generative reference fixtures (<c>$GENERATIVE_FIXTURES_DIR</c>, default <c>../shared/fixtures/generative</c>)
/// and enumerates its <c>stable_diffusion</c> records, so any manifest of the same schema runs unchanged; beside them
/// the repository's own autoencoder sets (<c>tests/fixtures-generative/*/manifest.json</c>, <c>autoencoders</c> records
/// with the same fields, made by the reference's code with the script in each folder).
/// </summary>
internal static class GenerativeFixtures
{
    static readonly Lazy<JsonDocument> _manifest = new(() => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Dir, "manifest.json"))));

    public static string Dir =>
        Environment.GetEnvironmentVariable("GENERATIVE_FIXTURES_DIR") is { Length: > 0 } d
            ? Path.GetFullPath(d)
            : Path.Combine(Fixtures.SharedDir, "fixtures", "generative");

    public static JsonElement Manifest => _manifest.Value.RootElement;

    /// <summary>xunit rows: the id of every Stable Diffusion record.</summary>
    public static IEnumerable<object[]> StableDiffusionIds =>
        Manifest.GetProperty("stable_diffusion").EnumerateArray().Select(e => new object[] { e.GetProperty("id").GetString()! });

    public static JsonElement StableDiffusion(string id) =>
        Manifest.GetProperty("stable_diffusion").EnumerateArray().Single(e => e.GetProperty("id").GetString() == id);

    public static string PathOf(string relative) => Path.Combine(Dir, relative);

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
    public static IEnumerable<object[]> AutoencoderIds =>
        StableDiffusionIds.Concat(_extraAutoencoders.Value.Select(e => new object[] { e.Record.GetProperty("id").GetString()! }));

    /// <summary>The record with this id and the folder its paths are relative to.</summary>
    public static (string Dir, JsonElement Record) Record(string id)
    {
        var main = Manifest.GetProperty("stable_diffusion").EnumerateArray().Where(e => e.GetProperty("id").GetString() == id).ToList();
        if (main.Count == 1) return (Dir, main[0]);
        return _extraAutoencoders.Value.Single(e => e.Record.GetProperty("id").GetString() == id);
    }
}

/// <summary>One Stable Diffusion record: its weights path, config and the reference tensors of its cases.</summary>
internal sealed class StableDiffusionReference : IDisposable
{
    readonly SafeTensorsFile _outputs;

    public StableDiffusionReference(string id)
    {
        Id = id;
        (var dir, Entry) = GenerativeFixtures.Record(id);
        WeightsPath = Path.Combine(dir, Entry.GetProperty("weights").GetString()!);
        _outputs = SafeTensorsFile.Open(Path.Combine(dir, Entry.GetProperty("outputs").GetString()!));
    }

    public string Id { get; }
    public JsonElement Entry { get; }
    public string WeightsPath { get; }
    public JsonElement Config => Entry.GetProperty("config");
    public string VaePrefix => Entry.GetProperty("key_prefixes").GetProperty("vae").GetString()!;
    public double ScaleFactor => Config.GetProperty("latent_diffusion").GetProperty("scale_factor").GetDouble();

    /// <summary>The cases of a kind (the hidden set may hold several, or none).</summary>
    public IEnumerable<JsonElement> Cases(string kind) =>
        Entry.GetProperty("cases").EnumerateArray().Where(c => c.GetProperty("kind").GetString() == kind);

    /// <summary>The outputs-file tensor a case's <c>tensors</c> map names for <paramref name="role"/>, as stored.</summary>
    public Tensor Tensor(JsonElement @case, string role) =>
        _outputs.ReadTensor(@case.GetProperty("tensors").GetProperty(role).GetString()!);

    public void Dispose() => _outputs.Dispose();
}

/// <summary>Tolerance checks in <c>torch.allclose</c>'s form, reporting the largest difference.</summary>
internal static class Close
{
    /// <summary>Asserts |actual − expected| ≤ atol + rtol·|expected| everywhere; returns max |actual − expected|.</summary>
    public static double Assert(Tensor expected, Tensor actual, double atol, double rtol, string what)
    {
        Xunit.Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape [{string.Join(",", actual.shape)}], reference [{string.Join(",", expected.shape)}]");
        using var scope = torch.NewDisposeScope();
        var e = expected.detach().to(ScalarType.Float64, CPU);
        var a = actual.detach().to(ScalarType.Float64, CPU);
        var diff = (a - e).abs();
        double max = diff.max().item<double>();
        double excess = (diff - (e.abs() * rtol + atol)).max().item<double>();
        Xunit.Assert.True(excess <= 0 && !double.IsNaN(max),
            $"{what}: max |diff| {max:E3} breaks atol {atol:E0} + rtol {rtol:E0}·|ref| (by {excess:E3}; max |ref| {e.abs().max().item<double>():E3})");
        return max;
    }
}
