using SkiaSharp;

namespace SharpClip.Vision;

/// <summary>
/// <see cref="RgbImage"/> to and from SkiaSharp bitmaps, for the figures and sheets the library draws, and the one font
/// they write with: DejaVu Sans, carried inside this assembly so labels render on a machine with no fonts installed and
/// the pixels do not depend on what fonts a machine happens to have.
/// </summary>
internal static class SkiaImages
{
    const string FontResource = "SharpClip.Vision.DejaVuSans.ttf";

    /// <summary>The font file's bytes, read once; every typeface is made from them.</summary>
    static readonly Lazy<SKData> FontData = new(() =>
    {
        using var stream = typeof(SkiaImages).Assembly.GetManifestResourceStream(FontResource)
            ?? throw new InvalidOperationException($"the font {FontResource} is missing from {typeof(SkiaImages).Assembly.GetName().Name}");
        return SKData.Create(stream);
    });

    /// <summary>A new typeface over the embedded font; the caller owns it.</summary>
    public static SKTypeface CreateTypeface() =>
        SKTypeface.FromData(FontData.Value) ?? throw new InvalidOperationException($"the embedded font {FontResource} could not be read");

    /// <summary>
    /// <paramref name="text"/> if it fits in <paramref name="maxWidth"/> pixels in <paramref name="font"/>, else its
    /// longest prefix that fits with '…' appended (just '…' if nothing does); never cuts a surrogate pair.
    /// </summary>
    public static string Fit(string text, SKFont font, float maxWidth)
    {
        if (font.MeasureText(text) <= maxWidth) return text;
        var elements = System.Globalization.StringInfo.ParseCombiningCharacters(text);
        int lo = 0, hi = elements.Length;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (font.MeasureText(text[..elements[mid - 1]] + "…") <= maxWidth) lo = mid; else hi = mid - 1;
        }
        return lo == 0 ? "…" : text[..elements[lo - 1]].TrimEnd() + "…";
    }

    /// <summary>An opaque RGBA bitmap's pixels as an <see cref="RgbImage"/> (alpha dropped).</summary>
    public static RgbImage ToRgbImage(SKBitmap bitmap)
    {
        var rgba = bitmap.GetPixelSpan();                                                   // [height, width, 4]
        var rgb = new byte[checked(bitmap.Width * bitmap.Height * 3)];
        for (int p = 0, q = 0; q < rgb.Length; p += 4, q += 3)
        {
            rgb[q] = rgba[p];
            rgb[q + 1] = rgba[p + 1];
            rgb[q + 2] = rgba[p + 2];
        }
        return new RgbImage(bitmap.Width, bitmap.Height, rgb);
    }

    /// <summary>An opaque RGBA bitmap of <paramref name="image"/>; the caller owns it.</summary>
    public static SKBitmap ToBitmap(RgbImage image)
    {
        var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var rgba = new byte[image.Width * image.Height * 4];
        for (int p = 0, q = 0; p < image.Pixels.Length; p += 3, q += 4)
        {
            rgba[q] = image.Pixels[p];
            rgba[q + 1] = image.Pixels[p + 1];
            rgba[q + 2] = image.Pixels[p + 2];
            rgba[q + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        return bitmap;
    }
}
