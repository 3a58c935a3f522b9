using System.Text.Json;
using SharpClip.Generation.Studies;
using SharpClip.Tests.Infrastructure;

namespace SharpClip.Tests.Generation.Studies;

/// <summary>
/// The guidance study on two captions, two images each, with vectors chosen by hand: the same seeds at every scale,
/// the per-caption averaging before the interval, and the numbers worked out in the comments.
/// </summary>
public class GuidanceStudyTests
{
    static readonly Dictionary<string, float[]> Texts = new() { ["A"] = [1, 0], ["B"] = [0, 1] };

    // Green = guidance × 2. At guidance 1 every image is (1,1): a tie, so a miss, CLIPScore 2.5/√2.
    // At guidance 3 (seeds 2m + i): A's images (1,0) hit and (1,1) miss; B's (0,1) and (0,1) both hit.
    // Real images (red 200 + m) are both (1,0): A hits, B misses.
    static float[] Image(byte red, byte green) => red >= 200 ? [1, 0] : green == 2 ? [1, 1] : red switch
    {
        0 => [1, 0], 1 => [1, 1], _ => [0, 1],
    };

    [Fact]
    public void EveryScaleStartsFromTheSameSeedsAndIsJudgedPerCaption()
    {
        var set = StudySets.Of(("A", null), ("B", null));
        var judge = CaptionJudge.Create(new StubEmbedder("judge", Texts, Image), set, 2, 0);
        var generator = new CodedGenerator();
        var result = GuidanceStudy.Run(generator, judge, new GuidanceStudyOptions { Guidance = [3, 1], ImagesPerCaption = 2 });

        Assert.Equal([(1.0, 0L), (3.0, 0L), (1.0, 2L), (3.0, 2L)], generator.Requests.Select(r => (r.GuidanceScale!.Value, r.Seed)));
        Assert.All(generator.Requests, r => Assert.Equal(2, r.Count));
        Assert.Equal([1.0, 3.0], result.Rows.Select(r => r.Guidance));

        Assert.Equal(0.0, result.Rows[0].Judge.RPrecision.Mean);
        Assert.Equal(0.0, result.Rows[0].Judge.RPrecision.StandardError);
        Assert.Equal(2.5 / Math.Sqrt(2), result.Rows[0].Judge.ClipScore.Mean, 9);
        // Guidance 3: per caption A 1/2, B 2/2 → mean 0.75; sample sd of (0.5, 1) is √0.125, over √2 → 0.25.
        Assert.Equal(0.75, result.Rows[1].Judge.RPrecision.Mean, 9);
        Assert.Equal(0.25, result.Rows[1].Judge.RPrecision.StandardError, 9);
        Assert.Equal(((2.5 + 2.5 / Math.Sqrt(2)) / 2 + 2.5) / 2, result.Rows[1].Judge.ClipScore.Mean, 9);
        Assert.Null(result.Rows[1].Judge.GroupRPrecision);
        Assert.Equal(0.5, result.RealImages.RPrecision.Mean, 9);
        Assert.False(result.Settings.ContainsKey("guidance")); // the study's variable is per row, not a setting

        using var dir = new TempDir();
        var files = GuidanceReport.Write(result, dir.Path);
        using var json = JsonDocument.Parse(File.ReadAllText(files.Json));
        Assert.Equal(0.75, json.RootElement.GetProperty("rows")[1].GetProperty("r_precision").GetProperty("mean").GetDouble(), 9);
        Assert.Equal([0L, 1], json.RootElement.GetProperty("captions")[0].GetProperty("images")[1].GetProperty("images").EnumerateArray().Select(i => i.GetProperty("seed").GetInt64()));
        Assert.Contains("| 1 (off) | 0.0 % (0.0–0.0) |", File.ReadAllText(files.Markdown));
        Assert.True(File.Exists(files.Samples));
    }

    [Fact]
    public void TwoStudiesWithOneJudgeJudgeTheRealImagesOnce()
    {
        var set = StudySets.Of(("A", null), ("B", null));
        var embedder = new StubEmbedder("judge", Texts, Image);
        var judge = CaptionJudge.Create(embedder, set, 2, 0);
        var options = new GuidanceStudyOptions { Guidance = [3] };
        var first = GuidanceStudy.Run(new CodedGenerator(), judge, options);
        var second = GuidanceStudy.Run(new CodedGenerator(), judge, options);
        Assert.Equal(2 + 2 * 2, embedder.ImagesEmbedded); // the 2 real images once, then 1 image per caption and study
        Assert.Equal(first.RealImages, second.RealImages);
    }

    [Fact]
    public void ScalesBelowOneAreRefused()
    {
        var set = StudySets.Of(("A", null), ("B", null));
        var judge = CaptionJudge.Create(new StubEmbedder("judge", Texts, Image), set, 2, 0);
        var e = Assert.Throws<ArgumentException>(() => GuidanceStudy.Run(new CodedGenerator(), judge, new GuidanceStudyOptions { Guidance = [0.5] }));
        Assert.Contains("0.5", e.Message);
    }
}
