using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;
using SharpClip.Vision;

namespace SharpClip.Plotting;

/// <summary>
/// A confusion matrix as a picture: rows are true classes, columns predicted ones, each row normalised so its cells
/// show where that class's images went (matplotlib's "Blues", white → dark blue, diagonal outlined in red). Class names
/// label the rows (left) and columns (below, turned a quarter), shortened with '…' past <see cref="MaxLabelWidth"/>;
/// with too many classes for one text row each, every k-th class is labelled. Small matrices print each cell's
/// percentage. Drawn with ScottPlot on a fixed layout, so a cell is exactly the number of pixels chosen here.
/// </summary>
public static class HeatMap
{
    /// <summary>Longest class label in pixels before it is cut with '…' (about 20 characters).</summary>
    public const int MaxLabelWidth = 110;

    /// <summary>Up to this many classes every one gets a cell tall enough for its label.</summary>
    const int AllLabelledUpTo = 150;

    const float TitleSize = 15, LabelSize = 13, TickSize = 11, ValueSize = 11;

    /// <summary>Smallest cell (pixels) that holds a row of text; also the pitch between labels when some are skipped.</summary>
    const int TextPitch = 14;

    const int Pad = 10;

    /// <summary>Room right of the grid for the colour bar and its tick labels.</summary>
    const int ColourBarRoom = 90;

    const string Subtitle = "rows: true class, columns: predicted, shade: share of the row";

    /// <summary>
    /// Row-normalised picture of <paramref name="confusion"/> ([true, predicted] counts). <paramref name="classNames"/>
    /// defaults to the class indices; <paramref name="cellSize"/> 0 picks one from the class count (48 px for a few
    /// classes down to 10 px at 72, smaller beyond <see cref="AllLabelledUpTo"/>).
    /// </summary>
    public static RgbImage Confusion(int[,] confusion, IReadOnlyList<string>? classNames = null, string title = "Confusion matrix", int cellSize = 0)
    {
        int c = confusion.GetLength(0);
        if (confusion.GetLength(1) != c) throw new ArgumentException($"confusion matrix is {c}x{confusion.GetLength(1)}; it must be square", nameof(confusion));
        if (c == 0) throw new ArgumentException("confusion matrix has no classes", nameof(confusion));
        if (classNames is not null && classNames.Count != c) throw new ArgumentException($"{classNames.Count} class names for a {c}-class confusion matrix", nameof(classNames));
        var names = classNames ?? Enumerable.Range(0, c).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
        var share = RowShares(confusion, out var hasImages);

        int cell = cellSize > 0 ? cellSize : c <= AllLabelledUpTo ? Math.Clamp(720 / c, TextPitch, 48) : Math.Max(2, 1500 / c);
        int every = cell >= TextPitch ? 1 : (TextPitch + cell - 1) / cell;
        var labels = names.Select((n, i) => i % every == 0 ? PlotFont.Fit(n, MaxLabelWidth, TickSize) : "").ToList();
        int labelWidth = (int)Math.Ceiling(Math.Max(1, labels.Max(l => PlotFont.Measure(l, TickSize))));
        bool showValues = cell >= PlotFont.Measure("100", ValueSize) + 4;

        // Pixel layout: title and subtitle on top, row labels and "true class" left, column labels and
        // "predicted class" below, the colour bar right; the grid is exactly c·cell pixels square.
        int grid = c * cell;
        // The title block (title over subtitle) is centred over the grid, so a small grid gets margins wide enough for it.
        int natural = Pad + 22 + labelWidth + 8 + grid + ColourBarRoom;
        float subtitleWidth = PlotFont.Measure(Subtitle, TitleSize);
        string fitted = PlotFont.Fit(title, Math.Max(subtitleWidth, natural - 2 * Pad), TitleSize);
        float block = Math.Max(subtitleWidth, PlotFont.Measure(fitted, TitleSize));
        int gridX = Math.Max(Pad + 22 + labelWidth + 8, (int)Math.Ceiling(Pad + block / 2 - grid / 2f)), gridY = Pad + 48;
        int width = Math.Max(gridX + grid + ColourBarRoom, (int)Math.Ceiling(gridX + grid / 2f + block / 2 + Pad));
        int height = gridY + grid + 8 + labelWidth + 30 + Pad;

        using var plot = PlotImage.Create();
        plot.Layout.Fixed(new ScottPlot.PixelRect(gridX, gridX + grid, gridY + grid, gridY));
        plot.Axes.Title.Label.Text = fitted + "\n" + Subtitle;
        plot.Axes.Title.Label.FontSize = TitleSize;
        plot.Axes.Title.Label.ForeColor = PlotColours.Text;
        plot.XLabel("predicted class", LabelSize);
        plot.YLabel("true class", LabelSize);

        // Row r of the matrix is drawn at the top (ScottPlot's default), spanning y ∈ [c − r − 1, c − r].
        var heatmap = plot.Add.Heatmap(share);
        heatmap.Colormap = Shades;
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        heatmap.Rectangle = new CoordinateRect(0, c, 0, c);
        plot.Axes.SetLimits(0, c, 0, c);
        plot.HideGrid();

        var rows = new NumericManual();
        var columns = new NumericManual();
        for (int i = 0; i < c; i++)
        {
            if (labels[i].Length == 0) continue;
            rows.AddMajor(c - i - 0.5, labels[i]);
            columns.AddMajor(i + 0.5, labels[i]);
        }
        plot.Axes.Left.TickGenerator = rows;
        plot.Axes.Bottom.TickGenerator = columns;
        plot.Axes.Bottom.TickLabelStyle.Rotation = -90;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        plot.Axes.Bottom.TickLabelStyle.OffsetY = 4;
        plot.Axes.Bottom.MinimumSize = labelWidth + 36;
        plot.Axes.Left.MinimumSize = labelWidth + 30;
        foreach (var axis in new IAxis[] { plot.Axes.Left, plot.Axes.Bottom })
        {
            axis.TickLabelStyle.FontSize = TickSize;
            axis.TickLabelStyle.ForeColor = PlotColours.Text;
            axis.MinorTickStyle.Length = 0;
        }

        for (int r = 0; r < c; r++)
            for (int k = 0; k < c; k++)
            {
                if (r == k && cell >= 6)
                {
                    var diagonal = plot.Add.Rectangle(k, k + 1, c - r - 1, c - r);
                    diagonal.FillStyle.Color = Colors.Transparent;
                    diagonal.LineStyle.Color = PlotColours.Red;
                    diagonal.LineStyle.Width = 1.5f;
                }
                if (showValues && hasImages[r] && confusion[r, k] > 0)
                {
                    var value = plot.Add.Text(Math.Round(share[r, k] * 100).ToString(CultureInfo.InvariantCulture), k + 0.5, c - r - 0.5);
                    value.LabelFontSize = ValueSize;
                    value.LabelAlignment = Alignment.MiddleCenter;
                    value.LabelFontColor = Colour(share[r, k]).Luminance < 0.55 ? Colors.White : PlotColours.Text;
                }
            }

        var bar = plot.Add.ColorBar(heatmap);
        var barTicks = new NumericManual();
        foreach (var (at, label) in new[] { (1.0, "100%"), (0.5, "50%"), (0.0, "0%") }) barTicks.AddMajor(at, label);
        bar.Axis.TickGenerator = barTicks;
        bar.Axis.TickLabelStyle.FontSize = TickSize;
        bar.Axis.TickLabelStyle.ForeColor = PlotColours.Text;
        return PlotImage.Render(plot, width, height);
    }

    /// <summary>matplotlib's "Blues" from white (0) to dark blue (1); ScottPlot's runs the other way.</summary>
    static readonly IColormap Shades = new ScottPlot.Colormaps.CustomInterpolated(
        new ScottPlot.Colormaps.Blues().GetColors(256).Reverse().ToArray());

    /// <summary>The shade of a cell holding <paramref name="share"/> of its row (0 → white, 1 → dark blue).</summary>
    internal static Color Colour(double share) => Shades.GetColor(Math.Clamp(share, 0, 1));

    /// <summary>Each row divided by its sum ([true, predicted]); a row with no images stays zero.</summary>
    static double[,] RowShares(int[,] confusion, out bool[] hasImages)
    {
        int c = confusion.GetLength(0);
        var share = new double[c, c];
        hasImages = new bool[c];
        for (int i = 0; i < c; i++)
        {
            double sum = 0;
            for (int j = 0; j < c; j++) sum += confusion[i, j];
            hasImages[i] = sum > 0;
            for (int j = 0; j < c; j++) share[i, j] = sum == 0 ? 0 : confusion[i, j] / sum;
        }
        return share;
    }
}
