using System.Text.Json;
using SharpClip.Generation.Studies;
using SharpClip.Tests.Infrastructure;
using SharpClip.Vision;
using SharpClip.ZeroShot;

namespace SharpClip.Tests.Generation.Studies;

/// <summary>
/// The reranking study's arithmetic on three captions with vectors chosen by hand, so every number below was worked
/// out on paper (in the comments), not taken from the code: which candidate each N keeps (ties keep the earlier),
/// R-precision with ties counted as misses, group R-precision, CLIPScore's clamp, the paired lift and the intervals.
/// </summary>
public class RerankingStudyTests
{
    // Judge: the captions are the axes of a 3-d space, the groups g1 = (1,1,0) and g2 = (0,0,1).
    static readonly Dictionary<string, float[]> JudgeTexts = new()
    {
        ["A"] = [1, 0, 0], ["B"] = [0, 1, 0], ["C"] = [0, 0, 1], ["g1"] = [1, 1, 0], ["g2"] = [0, 0, 1],
    };

    // Per seed (caption m's candidate i has seed 4m + i): the reranker's cosine to the caption and the judge's vector.
    static readonly (double Rerank, float[] Judge)[] Seeds =
    [
        (0.1, [0, 1, 0]), (0.5, [1, 1, 0]), (0.3, [1, 0, 0]), (0.9, [2, 1, 0]),   // A: miss, tie (miss), hit, hit
        (0.8, [0, 1, 0]), (0.2, [1, 0, 0]), (0.8, [1, 0, 0]), (0.1, [0, -1, 0]),  // B: hit, miss, miss (ties i0 on rerank), miss (cos -1)
        (0.0, [1, 0, 0]), (0.6, [0, 0, 1]), (0.7, [1, 0, 1]), (0.2, [0, 0, 1]),   // C: miss, hit, tie (miss), hit
    ];

    // Real images (coded 200 + m): A hits, B ties A and B (miss), C hits.
    static readonly float[][] Real = [[1, 0, 0], [1, 1, 0], [0, 0, 1]];

    static float[] JudgeImage(byte red, byte green) => red >= 200 ? Real[red - 200] : Seeds[red].Judge;

    static float[] RerankImage(byte red, byte green)
    {
        double r = Seeds[red].Rerank;
        return [(float)r, (float)Math.Sqrt(1 - r * r)];
    }

    internal static (RerankingStudyResult Result, CodedGenerator Generator) Run(int sampleCaptions = 2)
    {
        var set = StudySets.Of(("A", "g1"), ("B", "g1"), ("C", "g2"));
        var judge = CaptionJudge.Create(new StubEmbedder("judge.safetensors", JudgeTexts, JudgeImage), set, k: 3, seed: 5);
        var reranker = new StubEmbedder("reranker.safetensors", new Dictionary<string, float[]> { ["A"] = [1, 0], ["B"] = [1, 0], ["C"] = [1, 0] }, RerankImage);
        var generator = new CodedGenerator();
        var result = RerankingStudy.Run(generator, reranker, judge, new RerankingStudyOptions { Candidates = [4, 1, 2], SampleCaptions = sampleCaptions });
        return (result, generator);
    }

    [Fact]
    public void EachCaptionsCandidatesAreMadeOnceWithTheirOwnSeeds()
    {
        var (result, generator) = Run();
        Assert.Equal([0L, 4, 8], generator.Requests.Select(r => r.Seed));
        Assert.All(generator.Requests, r => Assert.Equal(4, r.Count));
        Assert.Equal(["A", "B", "C"], generator.Requests.Select(r => r.Prompt));
        Assert.Equal([1, 2, 4], result.CandidateCounts);
        Assert.Equal(Enumerable.Range(0, 12).Select(s => (long)s), result.PerCaption.SelectMany(p => p.Candidates.Select(c => c.Seed)));
    }

    [Fact]
    public void RerankingKeepsTheBestOfTheFirstNAndTheEarlierOnATie()
    {
        var (result, _) = Run();
        Assert.Equal([0, 1, 3], result.PerCaption[0].Kept);   // A: 0.1 | 0.5 > 0.1 | 0.9 is the best of four
        Assert.Equal([0, 0, 0], result.PerCaption[1].Kept);   // B: 0.8, and candidate 2's 0.8 ties it: the earlier stays
        Assert.Equal([0, 1, 2], result.PerCaption[2].Kept);   // C: 0.0 | 0.6 | 0.7
        Assert.Equal(0.8, result.Rows[2].RerankerCosine.Mean, 6); // (0.9 + 0.8 + 0.7) / 3
        Assert.Equal(0.1 / Math.Sqrt(3), result.Rows[2].RerankerCosine.StandardError, 6); // sample sd 0.1 over √3
    }

    [Fact]
    public void TheJudgesNumbersAreTheHandComputedOnes()
    {
        var (result, _) = Run();
        // R-precision: N=1 keeps A0 (miss), B0 (hit), C0 (miss); N=2 keeps A1 (tie: miss), B0, C1 (hit); N=4 keeps A3 (hit), B0, C2 (tie: miss).
        Assert.Equal(1 / 3.0, result.Rows[0].Judge.RPrecision.Mean, 9);
        Assert.Equal(2 / 3.0, result.Rows[1].Judge.RPrecision.Mean, 9);
        Assert.Equal(2 / 3.0, result.Rows[2].Judge.RPrecision.Mean, 9);
        Assert.Equal(1 / 3.0, result.Rows[0].Judge.RPrecision.StandardError, 9);    // values 0,1,0: sd √(1/3), over √3
        Assert.Equal(1 / 3.0 + MetricSummary.Z95 / 3, result.Rows[0].Judge.RPrecision.High, 9);
        Assert.Equal(0, result.Rows[0].Judge.RPrecision.Low);                         // 1/3 − 0.65 is cut at 0 %: a rate

        // Group R-precision (g1 for A and B, g2 for C): N=1's C0 = (1,0,0) is nearer g1 → miss; N=4's C2 = (1,0,1) is nearer g2 → hit.
        Assert.Equal(2 / 3.0, result.Rows[0].Judge.GroupRPrecision!.Mean, 9);
        Assert.Equal(1.0, result.Rows[2].Judge.GroupRPrecision!.Mean, 9);

        // CLIPScore at N=4: 2.5·2/√5, 2.5·1, 2.5·(1/√2).
        Assert.Equal((2.5 * 2 / Math.Sqrt(5) + 2.5 + 2.5 / Math.Sqrt(2)) / 3, result.Rows[2].Judge.ClipScore.Mean, 9);

        // Lift of N=4 over one sample, paired: A 1−0, B 1−1, C 0−0.
        Assert.Equal(1 / 3.0, result.Rows[2].RPrecisionLift.Mean, 9);
        Assert.Equal(1 / 3.0, result.Rows[2].RPrecisionLift.StandardError, 9);
        Assert.Equal(0.0, result.Rows[0].RPrecisionLift.Mean, 9);

        // A random candidate: A hits 2 of 4, B 1 of 4 (B3's cosine −1 scores CLIPScore 0, not negative), C 2 of 4.
        Assert.Equal((0.5 + 0.25 + 0.5) / 3, result.RandomCandidate.RPrecision.Mean, 9);
        double a = (0 + 2.5 / Math.Sqrt(2) + 2.5 + 2.5 * 2 / Math.Sqrt(5)) / 4, b = 2.5 / 4, c = (0 + 2.5 + 2.5 / Math.Sqrt(2) + 2.5) / 4;
        Assert.Equal((a + b + c) / 3, result.RandomCandidate.ClipScore.Mean, 9);

        // The real images: A hits, B's tie misses, C hits.
        Assert.Equal(2 / 3.0, result.RealImages.RPrecision.Mean, 9);
        Assert.Equal(1 / 3.0, result.Judge.CaptionChance, 9);
        Assert.Equal(0.5, result.Judge.GroupChance!.Value, 9);
    }

    [Fact]
    public void TheReportsCarryTheNumbersAndTheGoal()
    {
        var (result, _) = Run();
        using var dir = new TempDir();
        var files = RerankingReport.Write(result, dir.Path, "sharpclip eval generation (test)");
        using var json = JsonDocument.Parse(File.ReadAllText(files.Json));
        var root = json.RootElement;
        Assert.Equal([1, 2, 4], root.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("candidates").GetInt32()));
        Assert.Equal(2 / 3.0, root.GetProperty("rows")[2].GetProperty("r_precision").GetProperty("mean").GetDouble(), 9);
        Assert.Equal(["B", "C"], root.GetProperty("captions")[0].GetProperty("distractors").EnumerateArray().Select(d => d.GetString()));
        Assert.Equal(3, root.GetProperty("captions")[0].GetProperty("kept")[2].GetProperty("index").GetInt32());
        Assert.True(root.GetProperty("goal").GetProperty("met").GetBoolean()); // +33.3 points ≥ 10
        var md = File.ReadAllText(files.Markdown);
        Assert.Contains("| 4 | 0.800 (", md);
        Assert.Contains("+33.3 (", md);
        Assert.Contains("**met**", md);
        Assert.Contains("| real held-out images | | 66.7 % (", md);
        var plot = ImageDecoder.Decode(files.Plot).ToRgb();
        Assert.Equal((2 * 560, 420), (plot.Width, plot.Height));
        // Samples: two captions, each a heading strip and one row of the real image + 4 candidates (8 px → ×16 = 128).
        var samples = ImageDecoder.Decode(files.Samples!).ToRgb();
        Assert.Equal((4 + 5 * (128 + 4), 4 + 2 * (20 + 128 + 18 + 4)), (samples.Width, samples.Height));
    }

    [Fact]
    public void AGroupsPromptsAreAveragedAsAZeroShotEnsemble()
    {
        // "x g1" = (1,0,0) and "y g1" = (0,2,0) average, as unit vectors, to g1 ∝ (½,½,0); g2's prompts are both along (0,0,1).
        // Averaging them unnormalised would give (½,1,0) instead, which flips the last case below.
        var texts = new Dictionary<string, float[]>(JudgeTexts)
        {
            ["x g1"] = [1, 0, 0], ["y g1"] = [0, 2, 0], ["x g2"] = [0, 0, 1], ["y g2"] = [0, 0, 3],
        };
        var set = StudySets.Of(("A", "g1"), ("B", "g1"), ("C", "g2"));
        var judge = CaptionJudge.Create(new StubEmbedder("judge", texts, (_, _) => [0, 0, 0]), set, 3, 0, new PromptTemplates(["x {}", "y {}"]));
        Assert.Equal(["g1", "g2"], judge.Groups);
        Assert.True(judge.Judge(0, [1, 0.2f, 0.1f]).GroupFirst);      // cos to g1 0.828, to g2 0.098
        Assert.False(judge.Judge(2, [1, 0.2f, 0.1f]).GroupFirst);
        Assert.True(judge.Judge(1, [0.1f, 1, 0.5f]).GroupFirst);      // 0.693 vs 0.445
        Assert.False(judge.Judge(1, [0.1f, 0.6f, 0.5f]).GroupFirst);  // 0.6286 vs 0.6350 (unnormalised: 0.739 vs 0.635)
        Assert.Throws<ArgumentException>(() => CaptionJudge.Create(judge.Embedder, set, 3, 0, new PromptTemplates(["no placeholder"])));
    }

    [Fact]
    public void BadCandidateCountsAreRefused()
    {
        var set = StudySets.Of(("A", null), ("B", null));
        var judge = CaptionJudge.Create(new StubEmbedder("j", JudgeTexts, JudgeImage), set, 2, 0);
        var e = Assert.Throws<ArgumentException>(() => RerankingStudy.Run(new CodedGenerator(), judge.Embedder, judge, new RerankingStudyOptions { Candidates = [2, 0] }));
        Assert.Contains("--candidates: 0", e.Message);
        Assert.Throws<ArgumentException>(() => RerankingStudy.Run(new CodedGenerator(), judge.Embedder, judge, new RerankingStudyOptions { Candidates = [] }));
    }
}
