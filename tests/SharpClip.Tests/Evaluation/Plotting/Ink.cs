using SharpClip.Evaluation.Plotting;
using SharpClip.Vision;

namespace SharpClip.Tests.Evaluation.Plotting;

/// <summary>Pixel inspection for plot tests: which pixels carry a colour, and their bounding box.</summary>
internal static class Ink
{
    public static bool Is(RgbImage img, int x, int y, Rgb c) => img[x, y] == (c.R, c.G, c.B);

    /// <summary>Pixels of colour <paramref name="c"/> inside [x0, x1) × [y0, y1) (clipped to the image).</summary>
    public static List<(int X, int Y)> Pixels(RgbImage img, Rgb c, int x0 = 0, int y0 = 0, int x1 = int.MaxValue, int y1 = int.MaxValue)
    {
        var found = new List<(int, int)>();
        for (int y = Math.Max(0, y0); y < Math.Min(img.Height, y1); y++)
            for (int x = Math.Max(0, x0); x < Math.Min(img.Width, x1); x++)
                if (Is(img, x, y, c)) found.Add((x, y));
        return found;
    }

    /// <summary>Bounding box (left, top, width, height) of the pixels, or null when there are none.</summary>
    public static (int X, int Y, int Width, int Height)? Box(IReadOnlyCollection<(int X, int Y)> pixels)
    {
        if (pixels.Count == 0) return null;
        int x0 = pixels.Min(p => p.X), x1 = pixels.Max(p => p.X), y0 = pixels.Min(p => p.Y), y1 = pixels.Max(p => p.Y);
        return (x0, y0, x1 - x0 + 1, y1 - y0 + 1);
    }

    /// <summary>The pixels moved so their bounding box starts at (0, 0): a shape to compare wherever it was drawn.</summary>
    public static HashSet<(int X, int Y)> Shape(IReadOnlyCollection<(int X, int Y)> pixels)
    {
        if (pixels.Count == 0) return [];
        int x0 = pixels.Min(p => p.X), y0 = pixels.Min(p => p.Y);
        return pixels.Select(p => (p.X - x0, p.Y - y0)).ToHashSet();
    }

    /// <summary>The shape of <paramref name="text"/> drawn alone.</summary>
    public static HashSet<(int X, int Y)> ShapeOf(string text, int scale = 1, bool upward = false) =>
        Shape(Pixels(Render(text, scale, upward), Rgb.Text));

    /// <summary>Text drawn alone on a white canvas, for comparing renderings pixel for pixel.</summary>
    public static RgbImage Render(string text, int scale = 1, bool upward = false)
    {
        var canvas = new Canvas(400, 400, Rgb.White);
        canvas.Text(text, 10, 10, Rgb.Text, scale, upward: upward);
        return canvas.Image;
    }
}
