using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;
using SharpClip.Vision;

namespace SharpClip.Plotting;

/// <summary>One measured curve: a point per x, with optional ± whiskers (a standard deviation, a 95 % interval).</summary>
/// <param name="Label">Legend text.</param>
/// <param name="X">Positions; positive when the axis is log₂.</param>
/// <param name="Y">Values, one per x.</param>
/// <param name="Error">Half-widths of the whiskers, one per x; null or all zero draws none.</param>
public sealed record LineSeries(string Label, IReadOnlyList<double> X, IReadOnlyList<double> Y, IReadOnlyList<double>? Error = null)
{
    /// <summary>Lengths of the whiskers below the points when they differ from those above (an interval cut at 0 %); null = <see cref="Error"/>.</summary>
    public IReadOnlyList<double>? ErrorBelow { get; init; }
}

/// <summary>A dashed horizontal line for a level the curves are read against (zero-shot accuracy, a ceiling, chance).</summary>
public sealed record ReferenceLine(string Label, double Y);

/// <summary>
/// What a line chart shows: curves (blue, then orange, green, purple) over measured x values, dashed reference lines
/// (red, then grey, teal, brown), a title and axis labels. The x ticks are the measured values themselves, so a
/// reader sees exactly where the measurements are; on a log₂ axis (shots, candidates) they are evenly spaced doublings.
/// </summary>
public sealed record LineChart
{
    public string Title { get; init; } = "";
    public required string XLabel { get; init; }
    public required string YLabel { get; init; }

    /// <summary>x on a log₂ axis (every x must be positive).</summary>
    public bool LogX { get; init; }

    /// <summary>y as a fraction shown in percent: a fixed 0–100 % axis with a labelled line every 10 %; else automatic limits and ticks.</summary>
    public bool Percent { get; init; }

    public IReadOnlyList<LineSeries> Series { get; init; } = [];
    public IReadOnlyList<ReferenceLine> References { get; init; } = [];
}

/// <summary>
/// Line charts drawn with ScottPlot in the plot font: the few-shot probe curve against zero-shot (the CLIP paper's
/// Figure 6), a generator study's R-precision against candidates or guidance. The numbers are also in the reports'
/// Markdown; the picture is for reading the trend.
/// </summary>
public static class LinePlot
{
    /// <summary>Smallest picture that still leaves room for the plot area next to the titles, ticks and legend.</summary>
    public const int MinWidth = 198, MinHeight = 224;

    const float TitleSize = 16, LabelSize = 13, TickSize = 12;

    static readonly Color[] SeriesColours = [PlotColours.Blue, PlotColours.Orange, PlotColours.Green, PlotColours.Purple];
    static readonly Color[] ReferenceColours = [PlotColours.Red, PlotColours.SubtleText, PlotColours.Teal, PlotColours.Brown];

    /// <summary>The colour of the <paramref name="index"/>-th series (cycling).</summary>
    public static Color SeriesColour(int index) => SeriesColours[index % SeriesColours.Length];

    /// <summary>The colour of the <paramref name="index"/>-th reference line (cycling).</summary>
    public static Color ReferenceColour(int index) => ReferenceColours[index % ReferenceColours.Length];

    /// <exception cref="ArgumentOutOfRangeException">the picture is smaller than <see cref="MinWidth"/>×<see cref="MinHeight"/>.</exception>
    /// <exception cref="ArgumentException">a series' lists differ in length, or an x is not positive on a log axis.</exception>
    public static RgbImage Render(LineChart chart, int width = 640, int height = 420)
    {
        if (width < MinWidth || height < MinHeight)
            throw new ArgumentOutOfRangeException(nameof(width), $"plot size {width}x{height} is too small (at least {MinWidth}x{MinHeight})");
        foreach (var s in chart.Series)
        {
            if (s.Y.Count != s.X.Count || s.Error is { } e && e.Count != s.X.Count || s.ErrorBelow is { } b && (b.Count != s.X.Count || s.Error is null))
                throw new ArgumentException($"series '{s.Label}' has {s.X.Count} x, {s.Y.Count} y and {s.Error?.Count} error values", nameof(chart));
            int bad = chart.LogX ? s.X.ToList().FindIndex(x => !(x > 0)) : -1;
            if (bad >= 0) throw new ArgumentException($"series '{s.Label}' has x = {s.X[bad]}; the log axis needs positive values", nameof(chart));
        }
        double Pos(double x) => chart.LogX ? Math.Log2(x) : x;
        using var plot = PlotImage.Create();

        if (chart.Title.Length > 0) plot.Axes.Title.Label.Text = PlotFont.Fit(chart.Title, width - 16, TitleSize);
        plot.Axes.Title.Label.FontSize = TitleSize;
        plot.Axes.Title.Label.ForeColor = PlotColours.Text;
        plot.XLabel(chart.XLabel, LabelSize);
        plot.YLabel(chart.YLabel, LabelSize);

        if (chart.Percent)
        {
            // y: 0–100 %, a labelled grid line every 10 %.
            var yTicks = new NumericManual();
            for (int g = 0; g <= 10; g++) yTicks.AddMajor(g / 10.0, $"{g * 10}%");
            plot.Axes.Left.TickGenerator = yTicks;
            plot.Axes.SetLimitsY(-0.02, 1.02);
        }

        // x: one tick per measured value, labelled with the value itself.
        var xs = chart.Series.SelectMany(s => s.X).Distinct().Order().ToList();
        var xTicks = new NumericManual();
        foreach (var x in xs) xTicks.AddMajor(Pos(x), x.ToString("G4", CultureInfo.InvariantCulture));
        plot.Axes.Bottom.TickGenerator = xTicks;
        if (xs.Count > 0)
        {
            double lo = Pos(xs[0]), hi = Pos(xs[^1]), pad = hi == lo ? 1 : (hi - lo) * 0.06;
            plot.Axes.SetLimitsX(lo - pad, hi + pad);
        }
        else plot.Axes.SetLimitsX(-1, 1); // nothing measured: an empty x axis rather than ScottPlot's blank picture
        foreach (var axis in new IAxis[] { plot.Axes.Left, plot.Axes.Bottom })
        {
            axis.TickLabelStyle.FontSize = TickSize;
            axis.TickLabelStyle.ForeColor = PlotColours.Text;
        }
        plot.Grid.MajorLineColor = PlotColours.GridMinor;

        for (int i = 0; i < chart.References.Count; i++)
        {
            var line = plot.Add.HorizontalLine(chart.References[i].Y, width: 2, color: ReferenceColour(i), pattern: LinePattern.Dashed);
            line.LegendText = chart.References[i].Label;
        }
        for (int i = 0; i < chart.Series.Count; i++)
        {
            var s = chart.Series[i];
            if (s.X.Count == 0) continue;
            var order = Enumerable.Range(0, s.X.Count).OrderBy(k => s.X[k]).ToArray();
            double[] px = order.Select(k => Pos(s.X[k])).ToArray(), py = order.Select(k => s.Y[k]).ToArray();
            if (s.Error is { } error && (error.Any(e => e > 0) || s.ErrorBelow?.Any(e => e > 0) == true))
            {
                var whiskers = plot.Add.ErrorBar(px, py, order.Select(k => error[k]).ToArray());
                if (s.ErrorBelow is { } below) whiskers.YErrorNegative = order.Select(k => below[k]).ToArray();
                whiskers.Color = SeriesColour(i);
            }
            var curve = plot.Add.Scatter(px, py, SeriesColour(i));
            curve.LineWidth = 2;
            curve.MarkerSize = 7;
            curve.LegendText = s.Label;
        }
        if (chart.References.Count > 0 || chart.Series.Any(s => s.X.Count > 0)) plot.ShowLegend(Edge.Bottom);
        plot.Legend.FontSize = TickSize;
        plot.Legend.FontColor = PlotColours.Text;
        return PlotImage.Render(plot, width, height);
    }

    /// <summary>Charts drawn side by side at <paramref name="width"/>×<paramref name="height"/> each, in one picture (two metrics of one study).</summary>
    public static RgbImage Panels(IReadOnlyList<LineChart> charts, int width = 560, int height = 420)
    {
        if (charts.Count == 0) throw new ArgumentException("no charts to draw", nameof(charts));
        var panels = charts.Select(c => Render(c, width, height)).ToList();
        var pixels = new byte[checked(width * charts.Count * height * 3)];
        for (int p = 0; p < panels.Count; p++)
            for (int y = 0; y < height; y++)
                panels[p].Pixels.AsSpan(y * width * 3, width * 3).CopyTo(pixels.AsSpan((y * width * charts.Count + p * width) * 3));
        return new RgbImage(width * charts.Count, height, pixels);
    }
}
