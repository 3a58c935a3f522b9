using System.Globalization;
using SharpClip.Vision;

namespace SharpClip.Evaluation.Plotting;

/// <summary>
/// A confusion matrix as a picture: rows are true classes, columns predicted ones, each row normalised so its cells
/// show where that class's images went (white → dark blue, diagonal outlined in red). Class names label the rows (left)
/// and columns (below, reading upwards), shortened with '…' past <see cref="MaxLabelWidth"/>; with too many classes for
/// one text row each, every k-th class is labelled. Small matrices print each cell's percentage.
/// </summary>
public static class HeatMap
{
    /// <summary>Longest class label in pixels before it is cut with '…' (about 20 characters).</summary>
    public const int MaxLabelWidth = 110;

    /// <summary>Up to this many classes every one gets a cell tall enough for its label.</summary>
    const int AllLabelledUpTo = 150;

    /// <summary>Smallest cell (pixels) that holds a row of text; also the pitch between labels when some are skipped.</summary>
    const int TextPitch = BitmapFont.CapHeight + 3;

    const int Pad = 10;

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
        var share = new double[c, c];
        var hasImages = new bool[c];
        for (int i = 0; i < c; i++)
        {
            double sum = 0;
            for (int j = 0; j < c; j++) sum += confusion[i, j];
            hasImages[i] = sum > 0;
            for (int j = 0; j < c; j++) share[i, j] = sum == 0 ? 0 : confusion[i, j] / sum;
        }

        int cell = cellSize > 0 ? cellSize : c <= AllLabelledUpTo ? Math.Clamp(720 / c, TextPitch, 48) : Math.Max(2, 1500 / c);
        int every = cell >= TextPitch ? 1 : (TextPitch + cell - 1) / cell;
        var labels = names.Select((n, i) => i % every == 0 ? BitmapFont.Fit(n, MaxLabelWidth) : "").ToList();
        int labelWidth = Math.Max(1, labels.Max(l => BitmapFont.Measure(l)));
        int grid = c * cell + 1;
        bool showValues = cell >= BitmapFont.Measure("100") + 4;

        const string subtitle = "rows: true class, columns: predicted, shade: share of the row";
        int gridX = Pad + BitmapFont.CapHeight + 8 + labelWidth + 5;
        int gridY = Pad + 2 * BitmapFont.CapHeight + 8 + BitmapFont.CapHeight + 10;
        int barX = gridX + grid + 14, barWidth = 12;
        int width = Math.Max(barX + barWidth + 6 + BitmapFont.Measure("100%") + Pad,
            Math.Max(BitmapFont.Measure(title, 2), BitmapFont.Measure(subtitle)) + 2 * Pad);
        int height = gridY + grid + 5 + labelWidth + 10 + BitmapFont.CapHeight + Pad;
        var canvas = new Canvas(width, height, Rgb.White);

        canvas.Text(BitmapFont.Fit(title, width - 2 * Pad, 2), width / 2, Pad, Rgb.Text, scale: 2, h: Align.Centre);
        canvas.Text(subtitle, width / 2, Pad + 2 * BitmapFont.CapHeight + 6, Rgb.SubtleText, h: Align.Centre);

        // Cells, separated by one-pixel grid lines unless they are too small to spare one.
        int line = cell >= 6 ? 1 : 0;
        canvas.Fill(gridX, gridY, grid, grid, line == 1 ? Rgb.Grey(175) : Rgb.White);
        for (int r = 0; r < c; r++)
            for (int k = 0; k < c; k++)
            {
                var fill = Colour(share[r, k]);
                int x = gridX + k * cell + line, y = gridY + r * cell + line, inner = cell - line;
                canvas.Fill(x, y, inner, inner, fill);
                if (r == k && cell >= 6) canvas.Outline(x, y, inner, inner, Rgb.Red);
                if (showValues && hasImages[r] && confusion[r, k] > 0)
                    canvas.Text(Math.Round(share[r, k] * 100).ToString(CultureInfo.InvariantCulture), x + inner / 2, y + inner / 2,
                        fill.Luma < 140 ? Rgb.White : Rgb.Text, h: Align.Centre, v: Align.Centre);
            }

        // Class names: rows on the left (right-aligned to the grid), columns below (reading upwards, ending at the grid).
        for (int i = 0; i < c; i++)
        {
            if (labels[i].Length == 0) continue;
            int centre = i * cell + cell / 2 + 1;
            canvas.Text(labels[i], gridX - 5, gridY + centre, Rgb.Text, h: Align.End, v: Align.Centre);
            canvas.Text(labels[i], gridX + centre, gridY + grid + 5, Rgb.Text, h: Align.Centre, v: Align.Start, upward: true);
        }
        canvas.Text("true class", Pad, gridY + grid / 2, Rgb.Text, v: Align.Centre, upward: true);
        canvas.Text("predicted class", gridX + grid / 2, height - Pad, Rgb.Text, h: Align.Centre, v: Align.End);

        // Colour bar: 100 % at the top, 0 % at the bottom.
        for (int y = 0; y < grid; y++) canvas.HLine(barX, barX + barWidth - 1, gridY + y, Colour(1 - y / (double)(grid - 1)));
        canvas.Outline(barX, gridY, barWidth, grid, Rgb.Grey(175));
        foreach (var (value, label) in new[] { (1.0, "100%"), (0.5, "50%"), (0.0, "0%") })
            canvas.Text(label, barX + barWidth + 6, gridY + (int)Math.Round((1 - value) * (grid - 1)), Rgb.Text, v: Align.Centre);
        return canvas.Image;
    }

    /// <summary>0 → white, 1 → dark blue, linear in between.</summary>
    public static Rgb Colour(double share) => Rgb.Mix(Rgb.White, new Rgb(8, 48, 107), share);
}
