using System.Text.Json;
using SharpClip.Evaluation;
using SharpClip.Tests.Infrastructure;

namespace SharpClip.Tests.Evaluation;

public class LinearProbeTests
{
    static LabeledFeatures Load(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.RepoRoot, "tests", "SharpClip.Tests", "Evaluation", "data", "logreg_reference.json")));
        var root = doc.RootElement;
        var rows = root.GetProperty($"x_{name}").EnumerateArray().Select(r => r.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToList();
        return new LabeledFeatures(rows.SelectMany(r => r).ToArray(), root.GetProperty($"y_{name}").EnumerateArray().Select(v => v.GetInt32()).ToArray(), rows[0].Length);
    }

    [Fact]
    public void SweepPicksACWhoseTestAccuracyIsWithinTheRangeScikitLearnReaches()
    {
        var train = Load("train");
        var test = Load("test");
        var result = LinearProbe.Run(train, null, test, 5);
        Assert.InRange(result.C, 1e-6, 1e6);
        Assert.Equal(train.Count, result.TrainCount);
        // scikit-learn's test accuracies over C = 1e-3…1e2 lie in [0.872, 0.910] (logreg_reference.json).
        Assert.InRange(result.TestAccuracy, 0.86, 0.92);
    }

    [Fact]
    public void FewShotAccuracyGrowsWithShots()
    {
        var train = Load("train");
        var test = Load("test");
        var points = LinearProbe.FewShot(train, test, 5, [1, 16], seeds: 3);
        Assert.Equal([1, 16], points.Select(p => p.Shots));
        Assert.All(points, p => Assert.Equal(3, p.PerSeed.Count));
        Assert.True(points[1].MeanAccuracy > points[0].MeanAccuracy, $"1-shot {points[0].MeanAccuracy}, 16-shot {points[1].MeanAccuracy}");
    }
}
