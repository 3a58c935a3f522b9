using SharpClip.Vision;

namespace SharpClip.Evaluation;

/// <summary>
/// A minimal line chart (no text): accuracy (y, 0…1, grid every 10 %) against shots on a log₂ x axis, the few-shot
/// curve in blue with dots, and a horizontal reference line (zero-shot accuracy) in red — the shape of the CLIP
/// paper's Figure 6. Numbers go in the Markdown report next to it.
/// </summary>
public static class LinePlot
{
    public static RgbImage FewShot(IReadOnlyList<FewShotPoint> points, double? zeroShot, int width = 480, int height = 320)
    {
        var img = new RgbImage(width, height);
        Array.Fill(img.Pixels, (byte)255);
        int left = 30, right = width - 15, top = 15, bottom = height - 30;
        for (int g = 0; g <= 10; g++) HLine(img, left, right, Y(g / 10.0), g % 5 == 0 ? (byte)170 : (byte)225);
        VLine(img, left, top, bottom, 90);
        HLine(img, left, right, bottom, 90);
        if (points.Count == 0) return img;
        double lo = Math.Log2(points.Min(p => p.Shots)), hi = Math.Log2(points.Max(p => p.Shots));
        int X(int shots) => hi == lo ? (left + right) / 2 : (int)Math.Round(left + 10 + (Math.Log2(shots) - lo) / (hi - lo) * (right - left - 20));
        int Y(double acc) => (int)Math.Round(bottom - Math.Clamp(acc, 0, 1) * (bottom - top));
        if (zeroShot is { } z) for (int x = left; x <= right; x++) if ((x / 6) % 2 == 0) Dot(img, x, Y(z), 1, (220, 40, 40));
        for (int i = 0; i + 1 < points.Count; i++)
            Line(img, X(points[i].Shots), Y(points[i].MeanAccuracy), X(points[i + 1].Shots), Y(points[i + 1].MeanAccuracy), (30, 80, 200));
        foreach (var p in points)
        {
            Dot(img, X(p.Shots), Y(p.MeanAccuracy), 3, (30, 80, 200));
            VLine(img, X(p.Shots), bottom, bottom + 5, 90); // tick
        }
        return img;
    }

    static void Set(RgbImage img, int x, int y, (byte R, byte G, byte B) c)
    {
        if (x < 0 || y < 0 || x >= img.Width || y >= img.Height) return;
        int i = (y * img.Width + x) * 3;
        img.Pixels[i] = c.R; img.Pixels[i + 1] = c.G; img.Pixels[i + 2] = c.B;
    }

    static void HLine(RgbImage img, int x0, int x1, int y, byte grey) { for (int x = x0; x <= x1; x++) Set(img, x, y, (grey, grey, grey)); }
    static void VLine(RgbImage img, int x, int y0, int y1, byte grey) { for (int y = y0; y <= y1; y++) Set(img, x, y, (grey, grey, grey)); }

    static void Dot(RgbImage img, int cx, int cy, int r, (byte, byte, byte) c)
    {
        for (int y = -r; y <= r; y++) for (int x = -r; x <= r; x++) if (x * x + y * y <= r * r) Set(img, cx + x, cy + y, c);
    }

    static void Line(RgbImage img, int x0, int y0, int x1, int y1, (byte, byte, byte) c)
    {
        int steps = Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0));
        for (int s = 0; s <= steps; s++)
        {
            double t = steps == 0 ? 0 : (double)s / steps;
            Dot(img, (int)Math.Round(x0 + t * (x1 - x0)), (int)Math.Round(y0 + t * (y1 - y0)), 1, c);
        }
    }
}
