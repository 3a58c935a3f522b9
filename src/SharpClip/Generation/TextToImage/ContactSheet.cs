using SharpClip.Vision;
using SkiaSharp;

namespace SharpClip.Generation.TextToImage;

/// <summary>One tile of a contact sheet: the image, the line written under it, and whether it is marked (kept).</summary>
public sealed record ContactSheetTile(RgbImage Image, string Label, bool Marked = false);

/// <summary>A row of a sheet with headings (<see cref="ContactSheet.RenderRows"/>): its heading and its tiles.</summary>
public sealed record ContactSheetRow(string Heading, IReadOnlyList<ContactSheetTile> Tiles);

/// <summary>
/// All candidates of a run on one PNG, in the order given (rank order when reranked) with a label under each (rank,
/// CLIP cosine, seed), so a reader sees what reranking chose from. Layout, fixed so it can be checked:
/// <see cref="Columns"/> = ⌈√n⌉ columns, each image scaled up by the whole factor <see cref="Scale"/> that makes its
/// shorter side at least <see cref="MinimumSide"/> px (nearest neighbour: small samples stay crisp), a
/// <see cref="LabelHeight"/> px strip under it, <see cref="Margin"/> px around and between tiles, white background;
/// a marked tile (one reranking kept) gets a green frame in its margin and a green label.
/// Text is DejaVu Sans, the font embedded in this assembly (Vision/Fonts, shared with the plots), so the sheet looks the same on any machine.
/// </summary>
public static class ContactSheet
{
    public const int MinimumSide = 128;
    public const int LabelHeight = 18;
    public const int Margin = 4;
    const float TextSize = 12, HeadingSize = 13;

    /// <summary>Tiles per row for <paramref name="count"/> images: ⌈√count⌉.</summary>
    public static int Columns(int count) => (int)Math.Ceiling(Math.Sqrt(count) - 1e-9);

    /// <summary>The whole factor images of this size are scaled up by (1 for images already large enough).</summary>
    public static int Scale(int width, int height) => Math.Max(1, (MinimumSide + Math.Min(width, height) - 1) / Math.Min(width, height));

    /// <summary>Height of the strip above a row of <see cref="RenderRows"/> that carries its heading.</summary>
    public const int HeadingHeight = 20;

    /// <summary>Draws the sheet; every tile must have the size of the first.</summary>
    public static RgbImage Render(IReadOnlyList<ContactSheetTile> tiles)
    {
        if (tiles.Count == 0) throw new ArgumentException("no images for the contact sheet");
        return Draw([(null, tiles)], Columns(tiles.Count));
    }

    /// <summary>
    /// One row per entry, each under a <see cref="HeadingHeight"/> px strip with its heading (a caption), as many columns
    /// as the longest row; the tiles as in <see cref="Render"/>. For samples of several prompts on one sheet.
    /// </summary>
    public static RgbImage RenderRows(IReadOnlyList<ContactSheetRow> rows)
    {
        if (rows.Count == 0 || rows.Any(r => r.Tiles.Count == 0)) throw new ArgumentException("a contact sheet row has no images");
        return Draw([.. rows.Select(r => ((string?)r.Heading, r.Tiles))], rows.Max(r => r.Tiles.Count));
    }

    static RgbImage Draw(IReadOnlyList<(string? Heading, IReadOnlyList<ContactSheetTile> Tiles)> sections, int columns)
    {
        var first = sections[0].Tiles[0].Image;
        int w = first.Width, h = first.Height, scale = Scale(w, h);
        int tileW = w * scale, tileH = h * scale + LabelHeight;
        int width = Margin + columns * (tileW + Margin);
        int height = Margin + sections.Sum(s => (s.Heading is null ? 0 : HeadingHeight) + (s.Tiles.Count + columns - 1) / columns * (tileH + Margin));

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        using (var canvas = new SKCanvas(bitmap))
        using (var typeface = SkiaImages.CreateTypeface())
        using (var font = new SKFont(typeface, TextSize))
        using (var headingFont = new SKFont(typeface, HeadingSize))
        using (var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true })
        using (var green = new SKPaint { Color = new SKColor(0, 128, 0), IsAntialias = true })
        using (var frame = new SKPaint { Color = new SKColor(0, 160, 0), Style = SKPaintStyle.Stroke, StrokeWidth = Margin / 2f })
        {
            canvas.Clear(SKColors.White);
            int top = Margin, index = 0;
            foreach (var (heading, tiles) in sections)
            {
                if (heading is not null)
                {
                    canvas.DrawText(SkiaImages.Fit(heading, headingFont, width - 2 * Margin), Margin + 2, top + HeadingHeight - 6, SKTextAlign.Left, headingFont, ink);
                    top += HeadingHeight;
                }
                for (int i = 0; i < tiles.Count; i++, index++)
                {
                    var image = tiles[i].Image;
                    if (image.Width != w || image.Height != h) throw new ArgumentException($"contact sheet image {index} is {image.Width}x{image.Height}, image 0 is {w}x{h}");
                    int x = Margin + i % columns * (tileW + Margin), y = top + i / columns * (tileH + Margin);
                    using var tile = SkiaImages.ToBitmap(image);
                    using var picture = SKImage.FromBitmap(tile);
                    canvas.DrawImage(picture, new SKRect(x, y, x + tileW, y + h * scale), new SKSamplingOptions(SKFilterMode.Nearest));
                    if (tiles[i].Marked) canvas.DrawRect(x - Margin / 4f, y - Margin / 4f, tileW + Margin / 2f, tileH + Margin / 2f, frame);
                    canvas.DrawText(SkiaImages.Fit(tiles[i].Label, font, tileW), x + 2, y + h * scale + LabelHeight - 5, SKTextAlign.Left, font, tiles[i].Marked ? green : ink);
                }
                top += (tiles.Count + columns - 1) / columns * (tileH + Margin);
            }
        }
        return SkiaImages.ToRgbImage(bitmap);
    }
}
