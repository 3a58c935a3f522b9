using System.Globalization;
using SharpClip.Data;

namespace SharpClip.Evaluation;

/// <summary>Labelled features: [Count, Dimension] row-major with one label per row.</summary>
public sealed record LabeledFeatures(float[] X, int[] Y, int Dimension)
{
    public int Count => Y.Length;

    /// <summary>Rows of a feature matrix that were read, with the dataset's labels.</summary>
    public static LabeledFeatures From(FeatureMatrix features, LabeledDataset dataset)
    {
        var good = Enumerable.Range(0, features.Count).Where(i => features.Ok[i]).ToList();
        var x = new float[good.Count * features.Dimension];
        for (int g = 0; g < good.Count; g++) features.Row(good[g]).CopyTo(x.AsSpan(g * features.Dimension));
        return new LabeledFeatures(x, good.Select(i => dataset.Items[i].Label).ToArray(), features.Dimension);
    }

    public LabeledFeatures Take(IReadOnlyList<int> rows)
    {
        var x = new float[rows.Count * Dimension];
        for (int r = 0; r < rows.Count; r++) X.AsSpan(rows[r] * Dimension, Dimension).CopyTo(x.AsSpan(r * Dimension));
        return new LabeledFeatures(x, rows.Select(r => Y[r]).ToArray(), Dimension);
    }
}

/// <summary>One fit of the C sweep: the C tried, the validation accuracy it reached, and what the fit cost.</summary>
public sealed record CProbe(double C, double ValidationAccuracy, int Iterations, double Seconds);

/// <summary>
/// The regularisation sweep of the CLIP paper's probes: <see cref="Coarse"/> over 10^-6…10^6 (powers of ten), then
/// <see cref="Refined"/> at log-spaced values strictly between the best coarse value's neighbours; <see cref="Best"/> is
/// the C with the highest validation accuracy over both (ties go to the smaller C: stronger regularisation).
/// </summary>
public sealed record CSweep(double Best, double BestValidationAccuracy, IReadOnlyList<CProbe> Coarse, IReadOnlyList<CProbe> Refined)
{
    public IEnumerable<CProbe> All => Coarse.Concat(Refined);
}

/// <summary>
/// The chosen C, its validation accuracy, the final model's test accuracy, how many images the final fit used, the
/// sweep that chose C and the time the final fit took.
/// </summary>
public sealed record ProbeResult(double C, double ValidationAccuracy, double TestAccuracy, int TrainCount, CSweep Sweep, double FinalFitSeconds);

/// <summary>Mean and spread of k-shot probes over seeds.</summary>
public sealed record FewShotPoint(int Shots, double MeanAccuracy, double StdAccuracy, IReadOnlyList<double> PerSeed);

/// <summary>Row indices of one k-shot draw: the k per class to fit on, and held-back rows of the same pool to choose C on.</summary>
public sealed record ShotSample(IReadOnlyList<int> Train, IReadOnlyList<int> Validation);

/// <summary>
/// The CLIP paper's linear-probe protocol: logistic regression on frozen image features, with C chosen on a
/// validation split by a sweep over 1e-6…1e6 (powers of ten) refined around the best, then refitted on train +
/// validation; and k-shot probes (k images per class) averaged over seeds.
/// </summary>
public static class LinearProbe
{
    /// <summary>Exponents of the coarse grid: C = 10^-6 … 10^6.</summary>
    public static readonly IReadOnlyList<int> CoarseExponents = Enumerable.Range(-6, 13).ToArray();

    /// <summary>Values tried between the best coarse C's neighbours (exclusive), evenly spaced in log C.</summary>
    public const int RefineSteps = 8;

    /// <summary>
    /// Sweeps C on <paramref name="validation"/>: the coarse grid warm-started from the previous C's weights (the
    /// optimum moves smoothly with C), then <see cref="RefineSteps"/> values in (best/10, best·10) warm-started from
    /// the best coarse fit. Each fit can take seconds to minutes on large sets, so each is reported to
    /// <paramref name="progress"/> as it finishes ("C 3/21: 1e-04 → validation 41.3 % (52 iterations, 12.0 s)").
    /// </summary>
    public static CSweep SweepC(LabeledFeatures train, LabeledFeatures validation, int classes, IProgress<string>? progress = null,
        CancellationToken cancellationToken = default)
    {
        double best = 1, bestAcc = -1;
        double[]? warm = null, bestWeights = null;
        int fits = 0, total = CoarseExponents.Count + RefineSteps;
        CProbe Probe(double c, double[]? start)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var m = LogisticRegression.Fit(train.X, train.Y, classes, c, warmStart: start, cancellationToken: cancellationToken);
            var probe = new CProbe(c, m.Accuracy(validation.X, validation.Y), m.Iterations, sw.Elapsed.TotalSeconds);
            progress?.Report(string.Create(CultureInfo.InvariantCulture,
                $"C {++fits}/{total}: {c:G3} → validation {probe.ValidationAccuracy:P1} ({probe.Iterations} iterations, {probe.Seconds:F1} s)"));
            warm = m.Weights;
            if (probe.ValidationAccuracy > bestAcc || (probe.ValidationAccuracy == bestAcc && c < best))
            {
                bestAcc = probe.ValidationAccuracy;
                best = c;
                bestWeights = m.Weights;
            }
            return probe;
        }
        var coarse = CoarseExponents.Select(e => Probe(Math.Pow(10, e), warm)).ToList();
        double centre = Math.Log10(best);
        var fromBest = bestWeights;
        var refined = Enumerable.Range(1, RefineSteps).Select(t => Probe(Math.Pow(10, centre - 1 + 2.0 * t / (RefineSteps + 1)), fromBest)).ToList();
        return new CSweep(best, bestAcc, coarse, refined);
    }

    /// <summary>The C that <see cref="SweepC"/> picks.</summary>
    public static double SelectC(LabeledFeatures train, LabeledFeatures validation, int classes, CancellationToken cancellationToken = default) =>
        SweepC(train, validation, classes, null, cancellationToken).Best;

    /// <summary>
    /// Full probe: C from the sweep on <paramref name="validation"/> (when null, a seeded 20 % of the training set),
    /// then fitted on train + validation and scored on <paramref name="test"/>.
    /// </summary>
    public static ProbeResult Run(LabeledFeatures train, LabeledFeatures? validation, LabeledFeatures test, int classes, int seed = 0,
        IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        LabeledFeatures fitOn = train, val;
        if (validation is null)
        {
            var order = Enumerable.Range(0, train.Count).ToArray();
            new Random(seed).Shuffle(order);
            int nVal = Math.Max(1, train.Count / 5);
            val = train.Take(order[..nVal]);
            fitOn = train.Take(order[nVal..]);
        }
        else val = validation;
        var sweep = SweepC(fitOn, val, classes, progress, cancellationToken);
        var all = validation is null ? train : new LabeledFeatures([.. train.X, .. validation.X], [.. train.Y, .. validation.Y], train.Dimension);
        progress?.Report(string.Create(CultureInfo.InvariantCulture, $"final fit at C {sweep.Best:G3} on {all.Count} images"));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var final = LogisticRegression.Fit(all.X, all.Y, classes, sweep.Best, cancellationToken: cancellationToken);
        double seconds = sw.Elapsed.TotalSeconds;
        return new ProbeResult(sweep.Best, sweep.BestValidationAccuracy, final.Accuracy(test.X, test.Y), all.Count, sweep, seconds);
    }

    /// <summary>
    /// One k-shot draw from a labelled pool: per class, k rows at random (all of them when the class has fewer) to
    /// fit on, and up to max(k, 4) further rows of that class to choose C on. The same (labels, k, seed) always gives
    /// the same rows — on any machine and in any process — so few-shot numbers are reproducible.
    /// </summary>
    public static ShotSample SampleShots(IReadOnlyList<int> labels, int classes, int k, int seed)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "shots per class must be at least 1");
        // A fixed mix of (k, seed): HashCode.Combine would be randomised per process.
        var rng = new Random(unchecked(k * 1_000_003 + seed * 7_919 + 0x5EED));
        var train = new List<int>();
        var validation = new List<int>();
        for (int c = 0; c < classes; c++)
        {
            var members = Enumerable.Range(0, labels.Count).Where(i => labels[i] == c).ToArray();
            rng.Shuffle(members);
            train.AddRange(members.Take(k));
            validation.AddRange(members.Skip(k).Take(Math.Max(k, 4)));
        }
        return new ShotSample(train, validation);
    }

    /// <summary>
    /// k-shot probes: per seed, a <see cref="SampleShots"/> draw from the training set; C is chosen on the draw's
    /// validation rows (never the test set), or 1 when the pool has nothing left over.
    /// </summary>
    public static IReadOnlyList<FewShotPoint> FewShot(LabeledFeatures train, LabeledFeatures test, int classes, IReadOnlyList<int> shots,
        int seeds, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        if (seeds < 1) throw new ArgumentOutOfRangeException(nameof(seeds), seeds, "few-shot probes need at least one seed");
        var points = new List<FewShotPoint>();
        foreach (int k in shots)
        {
            var accs = new List<double>();
            for (int s = 0; s < seeds; s++)
            {
                var draw = SampleShots(train.Y, classes, k, s);
                var sample = train.Take(draw.Train);
                double c = draw.Validation.Count > 0 ? SelectC(sample, train.Take(draw.Validation), classes, cancellationToken) : 1.0;
                accs.Add(LogisticRegression.Fit(sample.X, sample.Y, classes, c, cancellationToken: cancellationToken).Accuracy(test.X, test.Y));
                progress?.Report($"{k}-shot seed {s}: {accs[^1]:P1}");
            }
            double mean = accs.Average();
            points.Add(new FewShotPoint(k, mean, Math.Sqrt(accs.Sum(a => (a - mean) * (a - mean)) / accs.Count), accs));
        }
        return points;
    }
}
