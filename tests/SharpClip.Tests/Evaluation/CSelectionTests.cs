using SharpClip.Evaluation;

namespace SharpClip.Tests.Evaluation;

/// <summary>
/// How the probe chooses C and draws k-shot samples. The C test uses a problem whose validation curve has a known
/// shape by construction — few noisy-labelled training points in many mostly-irrelevant dimensions: tiny C predicts
/// one class (chance), huge C fits the label noise and the irrelevant dimensions, a middle C is best — and finds the
/// best C independently by fitting a fine grid with the same solver.
/// </summary>
public class CSelectionTests
{
    const int Classes = 3;

    /// <summary>
    /// <paramref name="n"/> points, class i % 3, in <paramref name="dim"/>-d: N(0, 1) everywhere plus
    /// <paramref name="signal"/> on the class's own axis, all times <paramref name="scale"/>; a share
    /// <paramref name="flip"/> of labels switched to another class.
    /// </summary>
    static LabeledFeatures Noisy(int n, int dim, double signal, double flip, int seed, double scale = 1)
    {
        var rng = new Random(seed);
        var x = new float[n * dim];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            int c = i % Classes;
            for (int j = 0; j < dim; j++) x[i * dim + j] = (float)((Gauss(rng) + (j == c ? signal : 0)) * scale);
            y[i] = rng.NextDouble() < flip ? (c + 1 + rng.Next(Classes - 1)) % Classes : c;
        }
        return new LabeledFeatures(x, y, dim);
    }

    static double Gauss(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    static double ValidationAccuracy(LabeledFeatures train, LabeledFeatures validation, double c) =>
        LogisticRegression.Fit(train.X, train.Y, Classes, c).Accuracy(validation.X, validation.Y);

    // (dimensions, training points, signal, label-noise share, seed, feature scale).
    public static TheoryData<int, int, double, double, int, double> Problems => new()
    {
        { 30, 45, 1.5, 0.3, 1, 1.0 },
        { 30, 45, 1.5, 0.3, 1, 0.1 },  // the same problem with features ÷10: the best C ×100 (below)
        { 80, 90, 1.5, 0.25, 7, 1.0 },
    };

    [Theory, MemberData(nameof(Problems))]
    public void ChosenCIsWhereValidationAccuracyPeaks(int dim, int n, double signal, double flip, int seed, double scale)
    {
        var train = Noisy(n, dim, signal, flip, seed, scale);
        var validation = Noisy(3000, dim, signal, 0, seed + 1000, scale); // clean and large: a smooth, well-defined curve
        var sweep = LinearProbe.SweepC(train, validation, Classes);

        // The curve, independently: a quarter-decade grid over the whole range.
        var grid = Enumerable.Range(0, 49).Select(i => Math.Pow(10, -6 + i / 4.0)).ToList();
        var accuracy = grid.Select(c => ValidationAccuracy(train, validation, c)).ToList();
        double peak = accuracy.Max();
        // The construction did what it claims: both ends clearly worse than the middle.
        Assert.True(accuracy[0] < peak - 0.15, $"tiny C: {accuracy[0]:F3} vs peak {peak:F3}");
        Assert.True(accuracy[^1] < peak - 0.03, $"huge C: {accuracy[^1]:F3} vs peak {peak:F3}");

        // The chosen C lies in the stretch of the grid within one point of the peak (give or take half a grid step)…
        const double tolerance = 0.01, halfStep = 1.3336; // 10^(1/8)
        var nearPeak = grid.Where((_, i) => accuracy[i] >= peak - tolerance).ToList();
        Assert.InRange(sweep.Best, nearPeak.Min() / halfStep, nearPeak.Max() * halfStep);
        // …and a cold fit at it reaches that accuracy, the one the sweep reported (warm starts change nothing that matters).
        double atChosen = ValidationAccuracy(train, validation, sweep.Best);
        Assert.True(atChosen >= peak - tolerance, $"C={sweep.Best:G3}: {atChosen:F3}, peak {peak:F3}");
        Assert.InRange(sweep.BestValidationAccuracy, atChosen - 2.0 / 3000, atChosen + 2.0 / 3000);
    }

    [Theory, MemberData(nameof(Problems))]
    public void RefinementProbesOnlyAroundTheBestPowerOfTen(int dim, int n, double signal, double flip, int seed, double scale)
    {
        var train = Noisy(n, dim, signal, flip, seed, scale);
        var validation = Noisy(3000, dim, signal, 0, seed + 1000, scale);
        var sweep = LinearProbe.SweepC(train, validation, Classes);

        Assert.Equal(Enumerable.Range(-6, 13).Select(e => Math.Pow(10, e)), sweep.Coarse.Select(p => p.C));
        // The best coarse value (ties to the smaller C) and the window strictly between its neighbours.
        var bestCoarse = sweep.Coarse.OrderByDescending(p => p.ValidationAccuracy).ThenBy(p => p.C).First().C;
        Assert.Equal(LinearProbe.RefineSteps, sweep.Refined.Count);
        Assert.All(sweep.Refined, p => Assert.True(p.C > bestCoarse / 10 * 1.0001 && p.C < bestCoarse * 10 / 1.0001,
            $"refined C {p.C:G4} outside ({bestCoarse / 10:G3}, {bestCoarse * 10:G3})"));
        // Evenly spaced in log C, in increasing order.
        var logs = sweep.Refined.Select(p => Math.Log10(p.C)).ToList();
        var steps = logs.Zip(logs.Skip(1), (a, b) => b - a).ToList();
        Assert.All(steps, s => Assert.Equal(steps[0], s, 9));
        Assert.True(steps[0] > 0);
        // The winner is the best of everything tried, ties to the smaller C.
        var expected = sweep.All.OrderByDescending(p => p.ValidationAccuracy).ThenBy(p => p.C).First();
        Assert.Equal(expected.C, sweep.Best);
        Assert.Equal(expected.ValidationAccuracy, sweep.BestValidationAccuracy);
    }

    [Fact]
    public void SweepFollowsTheBestCWhenTheFeaturesAreRescaled()
    {
        // Features ÷10 with C ×100 is the same problem (the penalty ½‖W‖² meets weights ×10; intercepts are free), so the
        // validation curve moves two decades to the right: the chosen C and the refinement window must move with it.
        var plain = LinearProbe.SweepC(Noisy(45, 30, 1.5, 0.3, 1), Noisy(3000, 30, 1.5, 0, 1001), Classes);
        var scaled = LinearProbe.SweepC(Noisy(45, 30, 1.5, 0.3, 1, 0.1), Noisy(3000, 30, 1.5, 0, 1001, 0.1), Classes);
        Assert.Equal(plain.Best * 100, scaled.Best, plain.Best * 100 * 1e-9);
        Assert.Equal(plain.Refined.Select(p => Math.Log10(p.C) + 2), scaled.Refined.Select(p => Math.Log10(p.C)), new ToleranceComparer(1e-9));
        Assert.Equal(plain.BestValidationAccuracy, scaled.BestValidationAccuracy, 1e-9);
    }

    sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(double value) => 0;
    }

    [Fact]
    public void KShotDrawsAreExactlyKPerClassAndTheSameForTheSameSeed()
    {
        // Class sizes 10, 7, 3, 20, 1: k = 4 takes 4 where it can and everything from the small classes.
        int[] sizes = [10, 7, 3, 20, 1];
        var rng = new Random(3);
        var labels = sizes.SelectMany((size, c) => Enumerable.Repeat(c, size)).OrderBy(_ => rng.Next()).ToArray();
        foreach (int k in new[] { 1, 2, 4, 8 })
        {
            var draw = LinearProbe.SampleShots(labels, sizes.Length, k, seed: 0);
            var again = LinearProbe.SampleShots(labels, sizes.Length, k, seed: 0);
            Assert.Equal(draw.Train, again.Train);
            Assert.Equal(draw.Validation, again.Validation);
            Assert.Equal(draw.Train.Count, draw.Train.Distinct().Count());
            Assert.Empty(draw.Train.Intersect(draw.Validation));
            for (int c = 0; c < sizes.Length; c++)
            {
                Assert.Equal(Math.Min(k, sizes[c]), draw.Train.Count(i => labels[i] == c));
                Assert.Equal(Math.Min(Math.Max(k, 4), sizes[c] - Math.Min(k, sizes[c])), draw.Validation.Count(i => labels[i] == c));
            }
            // Another seed, another draw (from the classes that have a choice).
            var other = LinearProbe.SampleShots(labels, sizes.Length, k, seed: 1);
            Assert.NotEqual(draw.Train.Where(i => labels[i] == 3), other.Train.Where(i => labels[i] == 3));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => LinearProbe.SampleShots(labels, sizes.Length, 0, seed: 0));
    }

    [Fact]
    public void FewShotResultsRepeatExactly()
    {
        var train = Noisy(60, 10, 2.0, 0.1, 5);
        var test = Noisy(300, 10, 2.0, 0, 6);
        var first = LinearProbe.FewShot(train, test, Classes, [1, 4], seeds: 3);
        var second = LinearProbe.FewShot(train, test, Classes, [1, 4], seeds: 3);
        Assert.Equal(first.Select(p => p.PerSeed), second.Select(p => p.PerSeed));
        Assert.All(first, p => Assert.Equal(3, p.PerSeed.Count));
        Assert.Throws<ArgumentOutOfRangeException>(() => LinearProbe.FewShot(train, test, Classes, [1], seeds: 0));
    }
}
