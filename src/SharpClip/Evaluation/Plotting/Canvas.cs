using SharpClip.Vision;

namespace SharpClip.Evaluation.Plotting;

/// <summary>Where a box sits relative to the anchor coordinate: its start (left/top), centre or end (right/bottom).</summary>
public enum Align { Start, Centre, End }

/// <summary>
/// Pixel drawing on an <see cref="RgbImage"/>: filled rectangles, axis-aligned and sloped lines, dots and
/// <see cref="BitmapFont"/> text (horizontal, or reading upwards for vertical axis labels). Everything clips at the
/// image edge, so layout code never has to guard coordinates. Integer-only on purpose: crisp 1-pixel lines and
/// glyphs, and identical bytes on every machine.
/// </summary>
public sealed class Canvas
{
    public Canvas(int width, int height, Rgb background)
    {
        Image = new RgbImage(width, height);
        Fill(0, 0, width, height, background);
    }

    public RgbImage Image { get; }
    public int Width => Image.Width;
    public int Height => Image.Height;

    public void Set(int x, int y, Rgb c)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) return;
        int i = (y * Width + x) * 3;
        Image.Pixels[i] = c.R;
        Image.Pixels[i + 1] = c.G;
        Image.Pixels[i + 2] = c.B;
    }

    public void Fill(int x, int y, int width, int height, Rgb c)
    {
        for (int yy = Math.Max(0, y); yy < Math.Min(Height, y + height); yy++)
            for (int xx = Math.Max(0, x); xx < Math.Min(Width, x + width); xx++) Set(xx, yy, c);
    }

    /// <summary>One-pixel outline of the rectangle whose corners are (x, y) and (x + width − 1, y + height − 1).</summary>
    public void Outline(int x, int y, int width, int height, Rgb c)
    {
        HLine(x, x + width - 1, y, c);
        HLine(x, x + width - 1, y + height - 1, c);
        VLine(x, y, y + height - 1, c);
        VLine(x + width - 1, y, y + height - 1, c);
    }

    /// <summary>Horizontal line; with <paramref name="dash"/> &gt; 0, alternating dashes and gaps of that length.</summary>
    public void HLine(int x0, int x1, int y, Rgb c, int thickness = 1, int dash = 0)
    {
        if (x1 < x0) (x0, x1) = (x1, x0);
        for (int x = x0; x <= x1; x++)
            if (dash <= 0 || (x - x0) / dash % 2 == 0)
                for (int t = 0; t < thickness; t++) Set(x, y - thickness / 2 + t, c);
    }

    public void VLine(int x, int y0, int y1, Rgb c, int thickness = 1)
    {
        if (y1 < y0) (y0, y1) = (y1, y0);
        for (int y = y0; y <= y1; y++)
            for (int t = 0; t < thickness; t++) Set(x - thickness / 2 + t, y, c);
    }

    /// <summary>A straight line of square pen size <paramref name="thickness"/> between two points.</summary>
    public void Line(int x0, int y0, int x1, int y1, Rgb c, int thickness = 1)
    {
        int steps = Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0));
        for (int s = 0; s <= steps; s++)
        {
            double t = steps == 0 ? 0 : (double)s / steps;
            int x = (int)Math.Round(x0 + t * (x1 - x0)), y = (int)Math.Round(y0 + t * (y1 - y0));
            Fill(x - thickness / 2, y - thickness / 2, thickness, thickness, c);
        }
    }

    public void Disc(int cx, int cy, int radius, Rgb c)
    {
        for (int y = -radius; y <= radius; y++)
            for (int x = -radius; x <= radius; x++)
                if (x * x + y * y <= radius * radius + radius) Set(cx + x, cy + y, c);
    }

    /// <summary>
    /// Draws <paramref name="text"/> and returns its box. The box is the text's extent from the top of the capitals to
    /// the baseline (descenders hang outside it): <see cref="BitmapFont.Measure"/> wide and
    /// <see cref="BitmapFont.CapHeight"/>·scale tall, or the transpose when <paramref name="upward"/> (rotated a quarter
    /// turn anticlockwise, read bottom to top, as a y-axis title). <paramref name="h"/> and <paramref name="v"/> place the
    /// box on screen around (<paramref name="x"/>, <paramref name="y"/>) whatever the rotation.
    /// </summary>
    public TextBox Text(string text, int x, int y, Rgb c, int scale = 1, Align h = Align.Start, Align v = Align.Start, bool upward = false)
    {
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), scale, "text scale must be at least 1");
        var printable = BitmapFont.ToPrintable(text);
        int length = BitmapFont.Measure(printable, scale), thickness = BitmapFont.CapHeight * scale;
        int boxW = upward ? thickness : length, boxH = upward ? length : thickness;
        int left = h switch { Align.Centre => x - boxW / 2, Align.End => x - boxW, _ => x };
        int top = v switch { Align.Centre => y - boxH / 2, Align.End => y - boxH, _ => y };
        BitmapFont.Rasterize(printable, (gx, gy) =>
        {
            // Glyph pixel (gx along the line, gy down from the cap line) becomes a scale×scale block.
            int px = upward ? left + gy * scale : left + gx * scale;
            int py = upward ? top + length - (gx + 1) * scale : top + gy * scale;
            Fill(px, py, scale, scale, c);
        });
        return new TextBox(left, top, boxW, boxH);
    }
}

/// <summary>The screen rectangle a piece of text occupies (without descenders).</summary>
public readonly record struct TextBox(int X, int Y, int Width, int Height)
{
    public int Right => X + Width;
    public int Bottom => Y + Height;
}
