using SharpClip.Data;
using SharpClip.Vision;

namespace SharpClip.Demos.Emoji;

/// <summary>
/// Pixel steps shared by every style: sprite-sheet cells composited on white, and the crop-and-pad that gives every
/// style the same scale (OpenMoji art fills ~78 % of its frame, Fluent ~88 %, the vendor sheets ~100 %; without it a
/// model could tell styles apart by size alone).
/// </summary>
public static class EmojiArt
{
    /// <summary>Sprite-sheet geometry of emoji-datasource: 32 px cells with a 1 px gutter on each side.</summary>
    public const int SheetCell = 32, SheetPitch = 34;

    /// <summary>A pixel counts as ink when some channel is darker than this (on a white background).</summary>
    public const int InkThreshold = 250;

    /// <summary>
    /// The cell (x, y) of an RGBA (or RGB) sheet, alpha-composited over white: the cell at pixel
    /// (34·x + 1, 34·y + 1), 32 × 32.
    /// </summary>
    public static RgbImage SheetCellOnWhite(DecodedImage sheet, int x, int y, string name)
    {
        int ch = sheet.Channels, left = SheetPitch * x + 1, top = SheetPitch * y + 1;
        if (ch is not (3 or 4)) throw new InvalidDataException($"{name}: sprite sheet has {ch} channels, expected RGB or RGBA");
        if (left + SheetCell > sheet.Width || top + SheetCell > sheet.Height)
            throw new InvalidDataException($"{name}: cell ({x}, {y}) lies outside the {sheet.Width}x{sheet.Height} sheet");
        var src = sheet.Samples;
        var rgb = new byte[SheetCell * SheetCell * 3];
        for (int r = 0; r < SheetCell; r++)
            for (int c = 0; c < SheetCell; c++)
            {
                int s = ((top + r) * sheet.Width + left + c) * ch, d = (r * SheetCell + c) * 3;
                int a = ch == 4 ? src[s + 3] : 255;
                for (int k = 0; k < 3; k++) rgb[d + k] = (byte)((src[s + k] * a + 255 * (255 - a) + 127) / 255);
            }
        return new RgbImage(SheetCell, SheetCell, rgb);
    }

    /// <summary>The bounding box of ink (any channel below <see cref="InkThreshold"/>), or null for a blank image.</summary>
    public static PixelRect? InkBox(RgbImage image)
    {
        int x0 = int.MaxValue, y0 = int.MaxValue, x1 = -1, y1 = -1;
        var p = image.Pixels;
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                int i = (y * image.Width + x) * 3;
                if (p[i] >= InkThreshold && p[i + 1] >= InkThreshold && p[i + 2] >= InkThreshold) continue;
                if (x < x0) x0 = x;
                if (x > x1) x1 = x;
                if (y < y0) y0 = y;
                if (y > y1) y1 = y;
            }
        return x1 < 0 ? null : new PixelRect(x0, y0, x1 - x0 + 1, y1 - y0 + 1);
    }

    /// <summary>
    /// Crops to the ink, pads the shorter side with white to a centred square, and resizes to <paramref name="size"/>
    /// with Pillow's bicubic filter. A blank image becomes a white square (returned, not thrown: the caller counts it).
    /// </summary>
    public static RgbImage CropAndPad(RgbImage image, int size)
    {
        var box = InkBox(image);
        if (box is not { } b) return White(size);
        int side = Math.Max(b.Width, b.Height);
        var square = White(side);
        int ox = (side - b.Width) / 2, oy = (side - b.Height) / 2;
        for (int y = 0; y < b.Height; y++)
            Array.Copy(image.Pixels, ((b.Y + y) * image.Width + b.X) * 3, square.Pixels, ((oy + y) * side + ox) * 3, b.Width * 3);
        return side == size ? square : square.Resize(size, size, ResampleFilter.Bicubic);
    }

    /// <summary>True when nothing in the image is ink.</summary>
    public static bool IsBlank(RgbImage image) => InkBox(image) is null;

    static RgbImage White(int size)
    {
        var img = new RgbImage(size, size);
        Array.Fill(img.Pixels, (byte)255);
        return img;
    }
}
