namespace SharpClip.Generation.Studies;

/// <summary>
/// A study metric over captions: the mean, its standard error (sample standard deviation / √n; 0 for fewer than two
/// values) and the normal 95 % interval mean ± 1.96·SE. For a hit rate (R-precision) this is the Wald interval.
/// </summary>
public sealed record MetricSummary(double Mean, double StandardError, int Count)
{
    /// <summary>The normal quantile of a two-sided 95 % interval.</summary>
    public const double Z95 = 1.959963984540054;

    public double Low => Mean - Z95 * StandardError;
    public double High => Mean + Z95 * StandardError;

    /// <exception cref="ArgumentException">no values.</exception>
    public static MetricSummary Of(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("a metric needs at least one value", nameof(values));
        double mean = values.Average();
        if (values.Count < 2) return new MetricSummary(mean, 0, 1);
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
        return new MetricSummary(mean, Math.Sqrt(variance / values.Count), values.Count);
    }
}
