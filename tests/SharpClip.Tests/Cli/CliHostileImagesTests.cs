using SharpClip.Tests.Hostile;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Search;
using SharpClip.Tests.Vision;

namespace SharpClip.Tests.Cli;

/// <summary>
/// <c>sharpclip embed</c> on a folder holding good images beside every format cut short or scrambled: the bad ones are
/// each named on one line with what is wrong (no libvips call names, no stack trace), the good ones are embedded,
/// and exit code 2 says something was skipped.
/// </summary>
public sealed class CliHostileImagesTests : IDisposable
{
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void EmbedSkipsCutAndBrokenImagesNamingEachAndEmbedsTheRest()
    {
        var folder = _dir.Combine("photos");
        _dir.File("photos/good.png", TestImages.Made["PNG"]());
        _dir.File("photos/good.jpg", TestImages.Made["JPEG"]());
        var bad = new List<string>();
        foreach (var (format, make) in TestImages.Made)
        {
            var ext = format.StartsWith("WEBP", StringComparison.Ordinal) ? "webp" : format.ToLowerInvariant();
            var name = $"cut-{format.Replace(' ', '-').ToLowerInvariant()}.{ext}";
            _dir.File("photos/" + name, HostileImages.Cut(make(), "in the data"));
            bad.Add(name);
        }
        var output = _dir.Combine("e.jsonl");
        var model = Fixtures.PathOf(Fixtures.Array("models").First().GetProperty("weights").GetString()!);

        var (exit, _, err) = CliProcess.Run("embed", "--model", model, "--vocab", Fixtures.VocabPath, "--output", output, folder);

        Assert.True(exit == 2, $"exit {exit}: {err}");
        foreach (var name in bad) Assert.Contains(name, err);
        Assert.DoesNotContain("   at ", err);
        Assert.DoesNotContain("Vips", err);
        Assert.DoesNotContain("unable to call", err);
        var embedded = File.ReadAllLines(output);
        Assert.Equal(2, embedded.Length);
        Assert.Contains(embedded, l => l.Contains("good.png", StringComparison.Ordinal));
        Assert.Contains(embedded, l => l.Contains("good.jpg", StringComparison.Ordinal));
    }
}
