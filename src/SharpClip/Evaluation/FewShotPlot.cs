using System.Globalization;
using SharpClip.Plotting;
using SharpClip.Vision;

namespace SharpClip.Evaluation;

/// <summary>
/// The CLIP paper's Figure 6 for one model and dataset: few-shot linear-probe accuracy (mean over seeds, with ±1 std
/// whiskers) against training images per class on a log₂ axis, and the zero-shot accuracy as a dashed horizontal line
/// — where the curve crosses it is how many labelled examples per class zero-shot is "worth".
/// </summary>
public static class FewShotPlot
{
    /// <exception cref="ArgumentOutOfRangeException">the picture is too small for the plot.</exception>
    /// <exception cref="ArgumentException">a point has fewer than one shot (the log axis cannot place it).</exception>
    public static RgbImage Render(IReadOnlyList<FewShotPoint> points, double? zeroShot, string title = "Few-shot linear probe vs zero-shot",
        int width = 640, int height = 420)
    {
        if (points.FirstOrDefault(p => p.Shots < 1) is { } bad) throw new ArgumentException($"few-shot point with {bad.Shots} shots; the log axis needs at least 1", nameof(points));
        int seeds = points.Count > 0 ? points[0].PerSeed.Count : 0;
        return LinePlot.Render(new LineChart
        {
            Title = title, XLabel = "training images per class (log scale)", YLabel = "accuracy", LogX = true, Percent = true,
            Series = points.Count == 0 ? [] :
            [
                new LineSeries(seeds > 1 ? $"few-shot linear probe (mean and std of {seeds} seeds)" : "few-shot linear probe",
                    [.. points.Select(p => (double)p.Shots)], [.. points.Select(p => p.MeanAccuracy)], [.. points.Select(p => p.StdAccuracy)]),
            ],
            References = zeroShot is { } z ? [new ReferenceLine(string.Create(CultureInfo.InvariantCulture, $"zero-shot ({z * 100:0.0}%)"), z)] : [],
        }, width, height);
    }
}
