using SharpClip.Data.Sources;
using SharpClip.Generation.Studies;
using SharpClip.Tests.Infrastructure;

namespace SharpClip.Tests.Generation.Studies;

/// <summary>The studies' small parts: distractor draws, intervals, held-out caption picks and the separate-judge rule.</summary>
public class StudyPartsTests
{
    [Fact]
    public void DistractorsAreOtherCaptionsDrawnTheSameWayForTheSameSeed()
    {
        var draw = Distractors.Draw(20, 8, seed: 3);
        Assert.Equal(20, draw.Count);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(7, draw[i].Length);
            Assert.DoesNotContain(i, draw[i]);
            Assert.Equal(7, draw[i].Distinct().Count());
            Assert.All(draw[i], d => Assert.InRange(d, 0, 19));
        }
        Assert.Equal(draw, Distractors.Draw(20, 8, seed: 3));
        Assert.NotEqual(draw, Distractors.Draw(20, 8, seed: 4));
        Assert.Equal([[1, 2], [0, 2], [0, 1]], Distractors.Draw(3, 3, 9)); // K = all captions: every other one
        Assert.Contains("at least 9 held-out captions", Assert.Throws<ArgumentException>(() => Distractors.Draw(8, 9, 0)).Message);
        Assert.Throws<ArgumentException>(() => Distractors.Draw(8, 1, 0));
    }

    [Fact]
    public void MetricSummaryIsTheMeanWithTheSampleStandardError()
    {
        var m = MetricSummary.Of([2, 4, 4, 4, 5, 5, 7, 9]); // mean 5, sample variance 32/7
        Assert.Equal(5, m.Mean);
        Assert.Equal(Math.Sqrt(32.0 / 7 / 8), m.StandardError, 12);
        Assert.Equal(5 + 1.959963984540054 * Math.Sqrt(32.0 / 7 / 8), m.High, 12);
        Assert.Equal(0, MetricSummary.Of([0.3]).StandardError);
        var rate = MetricSummary.Of([0, 0, 0, 1], 0, 1);                                  // mean 1/4, sd 1/2, SE 1/4
        Assert.Equal((0.0, 0.25 + 1.959963984540054 / 4), (rate.Low, rate.High));
        Assert.Equal(1.0, MetricSummary.Of([1, 1, 0.9, 1], 0, 1).High);
        Assert.Throws<ArgumentException>(() => MetricSummary.Of([]));
    }

    [Fact]
    public void HeldOutCaptionsAreDistinctSeededAndCarryTheirGroups()
    {
        using var dir = new TempDir();
        var lines = new List<string>();
        for (int i = 0; i < 12; i++)
        {
            dir.Image($"{i}.jpg");
            lines.Add($$"""{"image": "{{i}}.jpg", "captions": ["emoji {{i % 10}}", "an emoji of {{i % 10}}"], "group": "{{(i % 3 == 0 ? "g0" : "g1")}}"}""");
        }
        var file = dir.File("val.jsonl", string.Join("\n", lines));
        var all = HeldOutCaptions.Pick(new JsonlSource(file), 100, 1);
        Assert.Equal(10, all.Available);                                  // emoji 0 and 1 appear twice: counted once, first sample kept
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"emoji {i}"), all.Captions.Select(c => c.Caption));
        Assert.Equal(["g0", "g1"], all.Groups);
        Assert.Equal("g0", all.Captions[0].Group);

        var some = HeldOutCaptions.Pick(new JsonlSource(file), 4, 1);
        Assert.Equal(4, some.Captions.Count);
        Assert.Equal(some.Captions.Select(c => c.Key), HeldOutCaptions.Pick(new JsonlSource(file), 4, 1).Captions.Select(c => c.Key));
        Assert.NotEqual(some.Captions.Select(c => c.Key), HeldOutCaptions.Pick(new JsonlSource(file), 4, 2).Captions.Select(c => c.Key));
        Assert.Empty(HeldOutCaptions.Pick(new JsonlSource(file), 4, 1, groupField: "style").Groups);
    }

    [Fact]
    public void TheJudgeMustNotBeTheReranker()
    {
        using var dir = new TempDir();
        var a = dir.File("a.safetensors", "weights A");
        var copy = dir.File("copy.safetensors", "weights A");
        var b = dir.File("b.safetensors", "weights B");
        SeparateJudge.Require(a, b, allowSame: false);
        Assert.Contains("--allow-same-judge", Assert.Throws<ArgumentException>(() => SeparateJudge.Require(a, a, false)).Message);
        Assert.Throws<ArgumentException>(() => SeparateJudge.Require(copy, a, false));   // the same file under another name
        SeparateJudge.Require(a, a, allowSame: true);
    }
}
