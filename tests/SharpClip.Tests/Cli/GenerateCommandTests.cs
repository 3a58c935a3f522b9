using System.Text.Json;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using SharpClip.Tests.Search;
using SharpClip.Vision;

namespace SharpClip.Tests.Cli;

/// <summary>
/// <c>sharpclip generate</c> as a user runs it (the real CLI in a child process) on the tiny Stable Diffusion fixture:
/// PNG count and size, the parameter record (the model's sha256 prefix is compared with the manifest's, not with
/// anything the code computed), byte-identical images for the same seed, each image reproducible alone from its
/// recorded seed, reranking with a CLIP fixture, and one clear error with a non-zero exit for bad input.
/// </summary>
public class GenerateCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("sharpclip-generate-").FullName;

    public static IEnumerable<object[]> Models => GenerativeFixtures.StableDiffusionModelIds();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static (string Weights, int Width, int Height, string Sha256) Model(string id)
    {
        var m = GenerativeFixtures.StableDiffusionModel(id);
        var hw = m.GetProperty("config").GetProperty("image_hw").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        return (GenerativeFixtures.PathOf(m.GetProperty("weights").GetString()!), hw[1], hw[0], m.GetProperty("weights_sha256").GetString()!);
    }

    string[] Generate(string id, string output, params string[] extra)
    {
        var (weights, w, h, _) = Model(id);
        return ["generate", "-m", weights, "--vocab", GenerativeFixtures.VocabPath, "a red cube on a blue sphere", "--steps", "3",
            "--sampler", "dpmpp-2m", "--karras", "--size", $"{w}x{h}", "-o", Path.Combine(_dir, output), .. extra];
    }

    [Theory, MemberData(nameof(Models))]
    public void WritesPngsAndARecordThatReproduces(string id)
    {
        var (weights, width, height, sha) = Model(id);
        var (exit, _, err) = CliProcess.Run(Generate(id, "a", "-n", "2", "--seed", "7", "--negative", "blurry"));
        Assert.True(exit == 0, err);
        var pngs = Directory.GetFiles(Path.Combine(_dir, "a"), "*.png").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(2, pngs.Length);
        foreach (var png in pngs)
        {
            var header = ImageDecoder.ReadHeader(png);
            Assert.Equal((width, height), (header.Width, header.Height));
        }
        Assert.Matches(@"steps: \d+/\d+ +[0-9.]+/s +ETA", err); // the progress, as plain lines (stderr is redirected)

        using var record = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "a", "generation.json")));
        var r = record.RootElement;
        Assert.Equal(Path.GetFullPath(weights), r.GetProperty("model").GetProperty("path").GetString());
        Assert.Equal(sha[..16], r.GetProperty("model").GetProperty("sha256_prefix").GetString());
        Assert.Equal("stable-diffusion", r.GetProperty("model").GetProperty("kind").GetString());
        Assert.Equal("a red cube on a blue sphere", r.GetProperty("prompt").GetString());
        Assert.Equal("blurry", r.GetProperty("negative_prompt").GetString());
        Assert.Equal("dpmpp-2m", r.GetProperty("sampler").GetString());
        Assert.True(r.GetProperty("karras").GetBoolean());
        Assert.Equal(3, r.GetProperty("steps").GetInt32());
        Assert.Equal(7.5, r.GetProperty("guidance").GetDouble());
        Assert.Equal((width, height), (r.GetProperty("width").GetInt32(), r.GetProperty("height").GetInt32()));
        Assert.Equal([7L, 8L], r.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("seed").GetInt64()));
        Assert.Equal(pngs.Select(Path.GetFileName), r.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("file").GetString()));

        // The same seed gives the same bytes; image 1 alone from its recorded seed is image 1 again.
        Assert.True(CliProcess.Run(Generate(id, "b", "-n", "2", "--seed", "7", "--negative", "blurry")) is { Exit: 0 });
        var again = Directory.GetFiles(Path.Combine(_dir, "b"), "*.png").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(pngs.Select(File.ReadAllBytes), again.Select(File.ReadAllBytes));
        Assert.True(CliProcess.Run(Generate(id, "c", "-n", "1", "--seed", "8", "--negative", "blurry")) is { Exit: 0 });
        var alone = Directory.GetFiles(Path.Combine(_dir, "c"), "*.png").Single();
        Assert.Equal(File.ReadAllBytes(pngs[1]), File.ReadAllBytes(alone));
        Assert.NotEqual(File.ReadAllBytes(pngs[0]), File.ReadAllBytes(pngs[1]));
    }

    [Theory, MemberData(nameof(Models))]
    public void RerankKeepsTheBestAndRecordsEveryScore(string id)
    {
        using var clip = new ReferenceModel(Fixtures.Ids("models").First()[0].ToString()!);
        var (exit, stdout, err) = CliProcess.Run(Generate(id, "r", "-n", "3", "--rerank-model", clip.WeightsPath, "--keep", "2"));
        Assert.True(exit == 0, err);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(_dir, "r"), "image-*.png").Length);
        var (_, width, height, _) = Model(id);
        var sheet = ImageDecoder.ReadHeader(Path.Combine(_dir, "r", "contact-sheet.png"));   // all 3 candidates, 2 columns (the documented layout)
        int scale = Math.Max(1, (128 + Math.Min(width, height) - 1) / Math.Min(width, height));
        Assert.Equal((4 + 2 * (width * scale + 4), 4 + 2 * (height * scale + 18 + 4)), (sheet.Width, sheet.Height));
        using var record = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "r", "generation.json")));
        var scores = record.RootElement.GetProperty("rerank").GetProperty("scores").EnumerateArray().ToList();
        Assert.Equal(3, scores.Count);
        Assert.Equal(2, scores.Count(s => s.GetProperty("kept").GetBoolean()));
        var cosines = scores.Select(s => s.GetProperty("cosine").GetDouble()).ToList();
        Assert.Equal(cosines.OrderByDescending(c => c), cosines); // best first
        var kept = record.RootElement.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("seed").GetInt64());
        Assert.Equal(scores.Take(2).Select(s => s.GetProperty("seed").GetInt64()), kept);
        Assert.Contains("cosine", stdout);
    }

    [Theory, MemberData(nameof(Models))]
    public void Bf16IsComputedWhenAskedAndRecorded(string id)
    {
        var (exit, _, err) = CliProcess.Run(Generate(id, "bf16", "--seed", "5", "--precision", "bf16"));
        Assert.True(exit == 0, err);
        Assert.True(CliProcess.Run(Generate(id, "fp32", "--seed", "5")) is { Exit: 0 });
        string Recorded(string run)
        {
            using var record = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, run, "generation.json")));
            return record.RootElement.GetProperty("precision").GetString()!;
        }
        Assert.Equal(("bf16", "fp32"), (Recorded("bf16"), Recorded("fp32")));
        byte[] Pixels(string run) => ImageDecoder.Decode(Directory.GetFiles(Path.Combine(_dir, run), "*.png").Single()).ToRgb().Pixels;
        var (bf16, fp32) = (Pixels("bf16"), Pixels("fp32"));
        double mean = bf16.Zip(fp32, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(mean > 0, "a bf16 run gave float32's bytes: it did not compute in bf16");
        Assert.True(mean < 16, $"bf16's image is {mean:F1} levels from float32's on average");
    }

    [Theory]
    [InlineData("--size", "64x65", "multiples of")]
    [InlineData("--size", "big", "--size big")]
    [InlineData("--sampler", "plms", "sampler 'plms'")]
    [InlineData("-m", "/nonexistent/model.safetensors", "no such model")]
    [InlineData("--init-image", "/nonexistent/init.png", "--init-image")]
    [InlineData("--precision", "int8", "precision int8")]
    [InlineData("--precision", "half", "--precision half")]
    public void BadInputIsOneClearError(string flag, string value, string message)
    {
        var id = GenerativeFixtures.StableDiffusionModelIds().First()[0].ToString()!;
        var args = Generate(id, "bad").ToList();
        int at = args.IndexOf(flag);
        if (at >= 0) args[at + 1] = value; else args.AddRange([flag, value]);
        var (exit, _, err) = CliProcess.Run([.. args]);
        Assert.NotEqual(0, exit);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.Contains("NNPACK")).ToArray();
        Assert.True(lines.Length == 1, err);
        Assert.StartsWith("sharpclip: error:", lines[0]);
        Assert.Contains(message, lines[0]);
        Assert.False(Directory.Exists(Path.Combine(_dir, "bad")), "nothing is written on a refused run");
    }

    [Fact]
    public void ACheckpointThatIsNotAGeneratorIsRefused()
    {
        using var clip = new ReferenceModel(Fixtures.Ids("models").First()[0].ToString()!);
        var (exit, _, err) = CliProcess.Run(["generate", "-m", clip.WeightsPath, "a cat", "-o", Path.Combine(_dir, "x")]);
        Assert.Equal(1, exit);
        Assert.Contains("not a text-to-image model", err);
    }
}
