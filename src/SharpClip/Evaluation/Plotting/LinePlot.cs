using System.Globalization;
using SharpClip.Vision;

namespace SharpClip.Evaluation.Plotting;

/// <summary>
/// The CLIP paper's Figure 6 for one model and dataset: few-shot linear-probe accuracy (mean over seeds, with ±1 std
/// whiskers) against training images per class on a log₂ axis, and the zero-shot accuracy as a dashed horizontal line
/// — where the curve crosses it is how many labelled examples per class zero-shot is "worth". Title, axis titles,
/// tick values and a legend are drawn with <see cref="BitmapFont"/>; the numbers are also in the Markdown report.
/// </summary>
public static class LinePlot
{
    /// <summary>Margins around the plot area, in pixels: room for the title, tick labels, axis titles and the legend.</summary>
    const int Left = 70, Right = 28, Top = 46, Bottom = 78;

    public static RgbImage FewShot(IReadOnlyList<FewShotPoint> points, double? zeroShot, string title = "Few-shot linear probe vs zero-shot",
        int width = 640, int height = 420)
    {
        if (width < Left + Right + 100 || height < Top + Bottom + 100)
            throw new ArgumentOutOfRangeException(nameof(width), $"plot size {width}x{height} is too small (at least {Left + Right + 100}x{Top + Bottom + 100})");
        if (points.FirstOrDefault(p => p.Shots < 1) is { } bad) throw new ArgumentException($"few-shot point with {bad.Shots} shots; the log axis needs at least 1", nameof(points));
        var canvas = new Canvas(width, height, Rgb.White);
        int left = Left, right = width - Right, top = Top, bottom = height - Bottom;
        int Y(double accuracy) => (int)Math.Round(bottom - Math.Clamp(accuracy, 0, 1) * (bottom - top));

        canvas.Text(BitmapFont.Fit(title, width - 16, 2), width / 2, 14, Rgb.Text, scale: 2, h: Align.Centre);

        // y: accuracy 0–100 %, a grid line and label every 10 %.
        for (int g = 0; g <= 10; g++)
        {
            int y = Y(g / 10.0);
            canvas.HLine(left, right, y, g % 5 == 0 ? Rgb.GridMajor : Rgb.GridMinor);
            canvas.HLine(left - 4, left - 1, y, Rgb.Axis);
            canvas.Text($"{g * 10}%", left - 8, y, Rgb.Text, h: Align.End, v: Align.Centre);
        }
        canvas.Text("accuracy", 14, (top + bottom) / 2, Rgb.Text, h: Align.Start, v: Align.Centre, upward: true);
        canvas.VLine(left, top, bottom, Rgb.Axis);
        canvas.HLine(left, right, bottom, Rgb.Axis);
        canvas.Text("training images per class (log scale)", (left + right) / 2, bottom + 26, Rgb.Text, h: Align.Centre);

        if (zeroShot is { } z) canvas.HLine(left + 1, right, Y(z), Rgb.Red, thickness: 2, dash: 8);
        var ordered = points.OrderBy(p => p.Shots).ToList();
        if (ordered.Count > 0)
        {
            double lo = Math.Log2(ordered[0].Shots), hi = Math.Log2(ordered[^1].Shots);
            int X(int shots) => hi == lo ? (left + right) / 2 : (int)Math.Round(left + 24 + (Math.Log2(shots) - lo) / (hi - lo) * (right - left - 48));
            foreach (var p in ordered)
            {
                canvas.VLine(X(p.Shots), bottom, bottom + 4, Rgb.Axis);
                canvas.Text(p.Shots.ToString(CultureInfo.InvariantCulture), X(p.Shots), bottom + 9, Rgb.Text, h: Align.Centre);
            }
            for (int i = 0; i + 1 < ordered.Count; i++)
                canvas.Line(X(ordered[i].Shots), Y(ordered[i].MeanAccuracy), X(ordered[i + 1].Shots), Y(ordered[i + 1].MeanAccuracy), Rgb.Blue, thickness: 2);
            foreach (var p in ordered)
            {
                int x = X(p.Shots);
                if (p.StdAccuracy > 0)
                {
                    int y0 = Y(p.MeanAccuracy - p.StdAccuracy), y1 = Y(p.MeanAccuracy + p.StdAccuracy);
                    canvas.VLine(x, y1, y0, Rgb.Blue);
                    canvas.HLine(x - 3, x + 3, y0, Rgb.Blue);
                    canvas.HLine(x - 3, x + 3, y1, Rgb.Blue);
                }
                canvas.Disc(x, Y(p.MeanAccuracy), 3, Rgb.Blue);
            }
        }

        Legend(canvas, height - 20, ordered.Count > 0 ? ordered[0].PerSeed.Count : 0, zeroShot);
        return canvas.Image;
    }

    /// <summary>One centred row under the x-axis title: a swatch and a label per series.</summary>
    static void Legend(Canvas canvas, int y, int seeds, double? zeroShot)
    {
        const int swatch = 26, gap = 6, between = 24;
        var probe = seeds > 1 ? $"few-shot linear probe (mean and std of {seeds} seeds)" : "few-shot linear probe";
        var zero = zeroShot is { } z ? string.Create(CultureInfo.InvariantCulture, $"zero-shot ({z * 100:0.0}%)") : null;
        int total = swatch + gap + BitmapFont.Measure(probe) + (zero is null ? 0 : between + swatch + gap + BitmapFont.Measure(zero));
        int x = (canvas.Width - total) / 2;
        canvas.HLine(x, x + swatch - 1, y, Rgb.Blue, thickness: 2);
        canvas.Disc(x + swatch / 2, y, 3, Rgb.Blue);
        x = canvas.Text(probe, x + swatch + gap, y, Rgb.Text, v: Align.Centre).Right + between;
        if (zero is null) return;
        canvas.HLine(x, x + swatch - 1, y, Rgb.Red, thickness: 2, dash: 8);
        canvas.Text(zero, x + swatch + gap, y, Rgb.Text, v: Align.Centre);
    }
}
