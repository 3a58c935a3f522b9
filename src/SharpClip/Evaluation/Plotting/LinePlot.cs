using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;
using SharpClip.Vision;

namespace SharpClip.Evaluation.Plotting;

/// <summary>
/// The CLIP paper's Figure 6 for one model and dataset: few-shot linear-probe accuracy (mean over seeds, with ±1 std
/// whiskers) against training images per class on a log₂ axis, and the zero-shot accuracy as a dashed horizontal line
/// — where the curve crosses it is how many labelled examples per class zero-shot is "worth". Drawn with ScottPlot;
/// the numbers are also in the Markdown report.
/// </summary>
public static class LinePlot
{
    /// <summary>Smallest picture that still leaves room for the plot area next to the titles, ticks and legend.</summary>
    const int MinWidth = 198, MinHeight = 224;

    const float TitleSize = 16, LabelSize = 13, TickSize = 12;

    public static RgbImage FewShot(IReadOnlyList<FewShotPoint> points, double? zeroShot, string title = "Few-shot linear probe vs zero-shot",
        int width = 640, int height = 420)
    {
        if (width < MinWidth || height < MinHeight)
            throw new ArgumentOutOfRangeException(nameof(width), $"plot size {width}x{height} is too small (at least {MinWidth}x{MinHeight})");
        if (points.FirstOrDefault(p => p.Shots < 1) is { } bad) throw new ArgumentException($"few-shot point with {bad.Shots} shots; the log axis needs at least 1", nameof(points));
        var ordered = points.OrderBy(p => p.Shots).ToList();
        using var plot = PlotImage.Create();

        if (title.Length > 0) plot.Axes.Title.Label.Text = PlotFont.Fit(title, width - 16, TitleSize);
        plot.Axes.Title.Label.FontSize = TitleSize;
        plot.Axes.Title.Label.ForeColor = PlotColours.Text;
        plot.XLabel("training images per class (log scale)", LabelSize);
        plot.YLabel("accuracy", LabelSize);

        // y: accuracy 0–100 %, a labelled grid line every 10 % (darker every 50 %).
        var yTicks = new NumericManual();
        for (int g = 0; g <= 10; g++) yTicks.AddMajor(g / 10.0, $"{g * 10}%");
        plot.Axes.Left.TickGenerator = yTicks;
        plot.Axes.SetLimitsY(-0.02, 1.02);

        // x: log₂ of the shot counts, one tick per measured count, labelled with the count itself.
        var xTicks = new NumericManual();
        foreach (var p in ordered) xTicks.AddMajor(Math.Log2(p.Shots), p.Shots.ToString(CultureInfo.InvariantCulture));
        plot.Axes.Bottom.TickGenerator = xTicks;
        if (ordered.Count > 0)
        {
            double lo = Math.Log2(ordered[0].Shots), hi = Math.Log2(ordered[^1].Shots), pad = hi == lo ? 1 : (hi - lo) * 0.06;
            plot.Axes.SetLimitsX(lo - pad, hi + pad);
        }
        else plot.Axes.SetLimitsX(-1, 1); // no measured counts: an empty x axis rather than ScottPlot's blank picture
        foreach (var axis in new IAxis[] { plot.Axes.Left, plot.Axes.Bottom })
        {
            axis.TickLabelStyle.FontSize = TickSize;
            axis.TickLabelStyle.ForeColor = PlotColours.Text;
        }
        plot.Grid.MajorLineColor = PlotColours.GridMinor;

        if (zeroShot is { } z)
        {
            var line = plot.Add.HorizontalLine(z, width: 2, color: PlotColours.Red, pattern: LinePattern.Dashed);
            line.LegendText = string.Create(CultureInfo.InvariantCulture, $"zero-shot ({z * 100:0.0}%)");
        }
        if (ordered.Count > 0)
        {
            double[] xs = ordered.Select(p => Math.Log2(p.Shots)).ToArray(), ys = ordered.Select(p => p.MeanAccuracy).ToArray();
            if (ordered.Any(p => p.StdAccuracy > 0))
            {
                var whiskers = plot.Add.ErrorBar(xs, ys, ordered.Select(p => p.StdAccuracy).ToArray());
                whiskers.Color = PlotColours.Blue;
            }
            var curve = plot.Add.Scatter(xs, ys, PlotColours.Blue);
            curve.LineWidth = 2;
            curve.MarkerSize = 7;
            int seeds = ordered[0].PerSeed.Count;
            curve.LegendText = seeds > 1 ? $"few-shot linear probe (mean and std of {seeds} seeds)" : "few-shot linear probe";
        }
        if (zeroShot is not null || ordered.Count > 0) plot.ShowLegend(Edge.Bottom);
        plot.Legend.FontSize = TickSize;
        plot.Legend.FontColor = PlotColours.Text;
        return PlotImage.Render(plot, width, height);
    }
}
