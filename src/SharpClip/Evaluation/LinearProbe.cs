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

/// <summary>The chosen C, its validation accuracy, and the final model's test accuracy.</summary>
public sealed record ProbeResult(double C, double ValidationAccuracy, double TestAccuracy, int TrainCount);

/// <summary>Mean and spread of k-shot probes over seeds.</summary>
public sealed record FewShotPoint(int Shots, double MeanAccuracy, double StdAccuracy, IReadOnlyList<double> PerSeed);

/// <summary>
/// The CLIP paper's linear-probe protocol: logistic regression on frozen image features, with C chosen on a
/// validation split by a sweep over 1e-6…1e6 (powers of ten) refined around the best, then refitted on train +
/// validation; and k-shot probes (k images per class) averaged over seeds.
/// </summary>
public static class LinearProbe
{
    /// <summary>Coarse grid: 10^-6 … 10^6; then 8 log-spaced values between the best's neighbours.</summary>
    public static double SelectC(LabeledFeatures train, LabeledFeatures validation, int classes, CancellationToken cancellationToken = default)
    {
        double best = 1, bestAcc = -1;
        double[]? warm = null;
        foreach (var e in Enumerable.Range(-6, 13))
        {
            double c = Math.Pow(10, e);
            var m = LogisticRegression.Fit(train.X, train.Y, classes, c, warmStart: warm, cancellationToken: cancellationToken);
            warm = m.Weights;
            double acc = m.Accuracy(validation.X, validation.Y);
            if (acc > bestAcc) { bestAcc = acc; best = c; } // ties keep the stronger regularisation
        }
        double centre = Math.Log10(best);
        foreach (var t in Enumerable.Range(1, 8))
        {
            double c = Math.Pow(10, centre - 1 + 2.0 * t / 9);
            var m = LogisticRegression.Fit(train.X, train.Y, classes, c, cancellationToken: cancellationToken);
            double acc = m.Accuracy(validation.X, validation.Y);
            if (acc > bestAcc) { bestAcc = acc; best = c; }
        }
        return best;
    }

    /// <summary>
    /// Full probe: C from the sweep on <paramref name="validation"/> (when null, a seeded 20 % of the training set),
    /// then fitted on train + validation and scored on <paramref name="test"/>.
    /// </summary>
    public static ProbeResult Run(LabeledFeatures train, LabeledFeatures? validation, LabeledFeatures test, int classes, int seed = 0,
        CancellationToken cancellationToken = default)
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
        double c = SelectC(fitOn, val, classes, cancellationToken);
        double valAcc = LogisticRegression.Fit(fitOn.X, fitOn.Y, classes, c, cancellationToken: cancellationToken).Accuracy(val.X, val.Y);
        var all = validation is null ? train : new LabeledFeatures([.. train.X, .. validation.X], [.. train.Y, .. validation.Y], train.Dimension);
        var final = LogisticRegression.Fit(all.X, all.Y, classes, c, cancellationToken: cancellationToken);
        return new ProbeResult(c, valAcc, final.Accuracy(test.X, test.Y), all.Count);
    }

    /// <summary>
    /// k-shot probes: per seed, k random training images per class (classes with fewer use all they have); C is
    /// chosen on validation images drawn from the rest of the training pool (never the test set).
    /// </summary>
    public static IReadOnlyList<FewShotPoint> FewShot(LabeledFeatures train, LabeledFeatures test, int classes, IReadOnlyList<int> shots,
        int seeds, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        var byClass = Enumerable.Range(0, classes).Select(c => Enumerable.Range(0, train.Count).Where(i => train.Y[i] == c).ToArray()).ToArray();
        var points = new List<FewShotPoint>();
        foreach (int k in shots)
        {
            var accs = new List<double>();
            for (int s = 0; s < seeds; s++)
            {
                var rng = new Random(HashCode.Combine(k, s, 0x5EED));
                var chosen = new List<int>();
                var rest = new List<int>();
                foreach (var members in byClass)
                {
                    var shuffled = members.ToArray();
                    rng.Shuffle(shuffled);
                    chosen.AddRange(shuffled.Take(k));
                    rest.AddRange(shuffled.Skip(k).Take(Math.Max(k, 4)));
                }
                var sample = train.Take(chosen);
                double c = rest.Count > 0 ? SelectC(sample, train.Take(rest), classes, cancellationToken) : 1.0;
                accs.Add(LogisticRegression.Fit(sample.X, sample.Y, classes, c, cancellationToken: cancellationToken).Accuracy(test.X, test.Y));
                progress?.Report($"{k}-shot seed {s}: {accs[^1]:P1}");
            }
            double mean = accs.Average();
            points.Add(new FewShotPoint(k, mean, Math.Sqrt(accs.Sum(a => (a - mean) * (a - mean)) / accs.Count), accs));
        }
        return points;
    }
}
