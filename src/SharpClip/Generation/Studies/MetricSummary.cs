namespace SharpClip.Generation.Studies;

/// <summary>
/// A study metric over captions: the mean, its standard error (sample standard deviation / √n; 0 for fewer than two
/// values) and the normal 95 % interval mean ± 1.96·SE, cut to the metric's range (a rate cannot leave [0, 1]; with
/// few captions the normal interval would). For a hit rate (R-precision) this is the Wald interval.
/// </summary>
public sealed record MetricSummary(double Mean, double StandardError, int Count)
{
    /// <summary>The normal quantile of a two-sided 95 % interval.</summary>
    public const double Z95 = 1.959963984540054;

    /// <summary>The least value the metric can take (the interval is cut there).</summary>
    public double Floor { get; init; } = double.NegativeInfinity;

    /// <summary>The greatest value the metric can take.</summary>
    public double Ceiling { get; init; } = double.PositiveInfinity;

    public double Low => Math.Max(Floor, Mean - Z95 * StandardError);
    public double High => Math.Min(Ceiling, Mean + Z95 * StandardError);

    /// <exception cref="ArgumentException">no values.</exception>
    public static MetricSummary Of(IReadOnlyList<double> values, double floor = double.NegativeInfinity, double ceiling = double.PositiveInfinity)
    {
        if (values.Count == 0) throw new ArgumentException("a metric needs at least one value", nameof(values));
        double mean = values.Average();
        double se = values.Count < 2 ? 0 : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1) / values.Count);
        return new MetricSummary(mean, se, values.Count) { Floor = floor, Ceiling = ceiling };
    }
}
