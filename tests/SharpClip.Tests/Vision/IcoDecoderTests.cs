using System.IO.Compression;
using System.Text.Json;
using SharpClip.Pipelines;
using SharpClip.Tests.Infrastructure;
using SharpClip.Vision;

namespace SharpClip.Tests.Vision;

/// <summary>
/// Windows icons against Pillow 9.4: each <c>tests/fixtures/ico</c> case (made by <c>tests/fixtures/make_ico_fixtures.py</c>
/// with PIL's own ICO encoder or byte by byte, and decoded there by <c>Image.open</c>) must give the size and mode Pillow
/// reports, the bytes of its <c>convert("RGB")</c> and its alpha band, exactly.
/// </summary>
public sealed class IcoDecoderTests
{
    static readonly string Dir = Path.Combine(Fixtures.RepoRoot, "tests", "fixtures", "ico");

    static readonly Lazy<JsonDocument> _cases = new(() => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Dir, "cases.json"))));

    public static IEnumerable<object[]> Cases =>
        _cases.Value.RootElement.GetProperty("cases").EnumerateArray().Select(c => new object[] { c.GetProperty("id").GetString()! });

    static JsonElement Case(string id) =>
        _cases.Value.RootElement.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("id").GetString() == id);

    static byte[] Gunzip(string path)
    {
        using var input = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    [Theory, MemberData(nameof(Cases))]
    public void DecodesAsPillowDoes(string id)
    {
        var c = Case(id);
        var path = Path.Combine(Dir, c.GetProperty("file").GetString()!);
        int w = c.GetProperty("width").GetInt32(), h = c.GetProperty("height").GetInt32();
        string mode = c.GetProperty("mode").GetString()!;

        var header = ImageDecoder.ReadHeader(path);
        Assert.Equal(ImageFormat.Ico, header.Format);
        Assert.Equal((w, h, mode), (header.Width, header.Height, header.Mode.PillowName()));

        var image = ImageDecoder.Decode(path);
        Assert.Equal((w, h, mode), (image.Width, image.Height, image.Mode.PillowName()));
        var reference = Gunzip(Path.Combine(Dir, c.GetProperty("reference").GetString()!));
        int n = w * h;
        Assert.Equal(n * (c.GetProperty("has_alpha").GetBoolean() ? 4 : 3), reference.Length);
        Assert.Equal(reference.AsSpan(0, 3 * n).ToArray(), image.ToRgb().Pixels);
        if (image.Mode == PillowMode.RGBA)
        {
            var samples = image.Samples.ToArray();
            var alpha = Enumerable.Range(0, n).Select(i => samples[4 * i + 3]).ToArray();
            Assert.Equal(reference.AsSpan(3 * n, n).ToArray(), alpha);
        }
    }

    [Fact]
    public void AnIconNamedPngIsEmbeddedByContent()
    {
        using var dir = new TempDir();
        var icon = File.ReadAllBytes(Path.Combine(Dir, "png_frames_rgba.ico"));
        var misnamed = dir.File("favicon.png", icon);
        var named = dir.File("favicon.ico", icon);
        var other = dir.File("other.png", TestImages.Made["PNG"]());
        var model = Fixtures.PathOf(Fixtures.Array("models").First().GetProperty("weights").GetString()!);
        using var pipeline = ClipPipeline.Load(model, new ClipPipelineOptions { VocabPath = Fixtures.VocabPath });

        var results = pipeline.EmbedImages([misnamed, named, other]);

        Assert.All(results, r => Assert.True(r.Succeeded, r.Error));
        Assert.Equal(results[1].Vector, results[0].Vector);
        Assert.NotEqual(results[2].Vector, results[0].Vector);
    }
}
