using System.Text.Json;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using SharpClip.Tests.Search;
using SharpClip.Tests.Training;
using SharpClip.Vision;

namespace SharpClip.Tests.Cli;

/// <summary>
/// <c>sharpclip generate</c> on a DALL-E model folder, as a user runs it (the real CLI in a child process): candidates
/// reranked by a CLIP fixture, the kept PNGs at the configured size, the contact sheet at the size its documented
/// layout gives, every candidate's score and seed in the record, the same seed giving the same bytes, a candidate
/// reproduced alone from its recorded seed, and flags of the other kind of model refused with one clear error.
/// </summary>
[Collection(TrainerRunsCollection.Name)]
public class GenerateDalleCommandTests(TinyDalleFolder dalle) : IClassFixture<TinyDalleFolder>, IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("sharpclip-generate-dalle-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string[] Generate(string output, params string[] extra) =>
        ["generate", "-m", dalle.Folder, "a red circle", "--vocab", GenerativeFixtures.VocabPath, "-o", Path.Combine(_dir, output), .. extra];

    static string[] Kept(string folder) => Directory.GetFiles(folder, "image-*.png").Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void RerankedCandidatesKeepTheBestAndDrawAContactSheet()
    {
        using var clip = new ReferenceModel(Fixtures.Ids("models").First()[0].ToString()!);
        string[] Args(string output) => Generate(output, "-n", "4", "--batch-size", "3", "--seed", "11", "--top-k", "8", "--temperature", "0.9",
            "--rerank-model", clip.WeightsPath, "--keep", "2");
        var (exit, stdout, err) = CliProcess.Run(Args("a"));
        Assert.True(exit == 0, err);
        Assert.Matches(@"tokens\W+(\[[#.]+\] )?\d+/64 ", err);          // progress per image token: 4 candidates × 16 tokens, bar or plain line
        var folder = Path.Combine(_dir, "a");
        var kept = Kept(folder);
        Assert.Equal(2, kept.Length);
        foreach (var png in kept) Assert.Equal((TinyDalleFolder.ImageSide, TinyDalleFolder.ImageSide), Size(png));

        // The layout the contact sheet documents: ⌈√4⌉ = 2 columns, 16 px scaled ×8 to 128, an 18 px label strip, 4 px margins.
        var sheet = Path.Combine(folder, "contact-sheet.png");
        Assert.True(File.Exists(sheet), stdout);
        int tile = 128, label = 18, margin = 4;
        Assert.Equal((margin + 2 * (tile + margin), margin + 2 * (tile + label + margin)), Size(sheet));

        using var record = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "generation.json")));
        var r = record.RootElement;
        Assert.Equal("dalle", r.GetProperty("model").GetProperty("kind").GetString());
        Assert.Equal(8, r.GetProperty("top_k").GetInt32());
        Assert.Equal(0.9, r.GetProperty("temperature").GetDouble());
        Assert.Equal(3, r.GetProperty("batch_size").GetInt32());
        Assert.Equal("contact-sheet.png", r.GetProperty("rerank").GetProperty("contact_sheet").GetString());
        var scores = r.GetProperty("rerank").GetProperty("scores").EnumerateArray().ToList();
        Assert.Equal([11L, 12, 13, 14], scores.Select(s => s.GetProperty("seed").GetInt64()).Order());
        var cosines = scores.Select(s => s.GetProperty("cosine").GetDouble()).ToList();
        Assert.Equal(cosines.OrderByDescending(c => c), cosines);
        Assert.Equal([true, true, false, false], scores.Select(s => s.GetProperty("kept").GetBoolean()));
        Assert.Equal(scores.Take(2).Select(s => s.GetProperty("seed").GetInt64()),
            r.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("seed").GetInt64()));

        Assert.True(CliProcess.Run(Args("b")) is { Exit: 0 });
        Assert.Equal(kept.Select(File.ReadAllBytes), Kept(Path.Combine(_dir, "b")).Select(File.ReadAllBytes));
        Assert.Equal(File.ReadAllBytes(sheet), File.ReadAllBytes(Path.Combine(_dir, "b", "contact-sheet.png")));
    }

    [Fact]
    public void EachCandidateComesBackAloneFromItsSeed()
    {
        Assert.True(CliProcess.Run(Generate("all", "-n", "3", "--batch-size", "3", "--seed", "5")) is { Exit: 0 }, "generate failed");
        var all = Kept(Path.Combine(_dir, "all"));
        Assert.Equal(3, all.Length);
        var (exit, _, err) = CliProcess.Run(Generate("one", "-n", "1", "--seed", "6"));
        Assert.True(exit == 0, err);
        var alone = ImageDecoder.Decode(Kept(Path.Combine(_dir, "one")).Single()).ToRgb();
        var batched = ImageDecoder.Decode(all[1]).ToRgb();
        // The same tokens; the dVAE's batched float sums may move a pixel by one level (the documented batching caveat).
        Assert.True(alone.Pixels.Zip(batched.Pixels, (a, b) => Math.Abs(a - b)).Max() <= 1, "image 1 alone differs from image 1 of the batch");
    }

    [Theory]
    [InlineData("--guidance", "5", "guidance")]
    [InlineData("--steps", "10", "steps")]
    [InlineData("--sampler", "ddim", "sampler 'ddim'")]
    [InlineData("--negative", "blurry", "negative prompt")]
    [InlineData("--size", "32x32", "makes 16x16 only")]
    [InlineData("--top-p", "1.5", "top-p 1.5")]
    [InlineData("--precision", "bf16", "precision bfloat16: a DALL-E model computes in fp32 only")]
    public void StableDiffusionFlagsAndBadSamplingAreOneClearError(string flag, string value, string message)
    {
        var (exit, _, err) = CliProcess.Run(Generate("bad", flag, value));
        Assert.NotEqual(0, exit);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.Contains("NNPACK")).ToArray();
        Assert.True(lines.Length == 1, err);
        Assert.StartsWith("sharpclip: error:", lines[0]);
        Assert.Contains(message, lines[0]);
        Assert.False(Directory.Exists(Path.Combine(_dir, "bad")), "nothing is written on a refused run");
    }

    [Theory]
    [InlineData("--top-k", "8")]
    [InlineData("--temperature", "0.7")]
    public void StableDiffusionRefusesDalleSamplingFlags(string flag, string value)
    {
        var sd = GenerativeFixtures.StableDiffusionModels.First();
        var (exit, _, err) = CliProcess.Run(["generate", "-m", GenerativeFixtures.PathOf(sd.GetProperty("weights").GetString()!), "--vocab", GenerativeFixtures.VocabPath,
            "a cat", "--steps", "2", flag, value, "-o", Path.Combine(_dir, "sd")]);
        Assert.Equal(1, exit);
        Assert.Contains("DALL-E", err);
        Assert.False(Directory.Exists(Path.Combine(_dir, "sd")));
    }

    static (int Width, int Height) Size(string png)
    {
        var header = ImageDecoder.ReadHeader(png);
        return (header.Width, header.Height);
    }
}
