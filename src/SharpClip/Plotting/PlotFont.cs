using ScottPlot;
using SharpClip.Vision;
using SkiaSharp;

namespace SharpClip.Plotting;

/// <summary>
/// The plots' font: DejaVu Sans (matplotlib's default, so the figures read like the papers'), carried inside this
/// assembly and handed to ScottPlot through its font-resolver hook. ScottPlot itself asks the system for a font; on a
/// machine with none installed its labels silently vanish, and where fonts exist the pick (and so the pixels) depends
/// on what that machine happens to have. One embedded face fixes both.
/// </summary>
static class PlotFont
{
    /// <summary>The family name the plots ask ScottPlot for; only <see cref="EmbeddedFontResolver"/> answers to it.</summary>
    public const string Name = "SharpClip DejaVu Sans";

    static PlotFont() => Fonts.FontResolvers.Add(new EmbeddedFontResolver());

    /// <summary>Makes sure the resolver is registered (the static constructor runs once, thread-safely).</summary>
    public static void Register() { }

    /// <summary>A new typeface over the embedded font (ScottPlot caches and owns the ones it asks for).</summary>
    public static SKTypeface CreateTypeface() => SkiaImages.CreateTypeface();

    /// <summary>Width in pixels of <paramref name="text"/> at <paramref name="size"/> pixels.</summary>
    public static float Measure(string text, float size)
    {
        using var typeface = CreateTypeface();
        using var font = new SKFont(typeface, size);
        return font.MeasureText(text);
    }

    /// <summary>See <see cref="SkiaImages.Fit"/>, at <paramref name="size"/> pixels in the plot font.</summary>
    public static string Fit(string text, float maxWidth, float size)
    {
        using var typeface = CreateTypeface();
        using var font = new SKFont(typeface, size);
        return SkiaImages.Fit(text, font, maxWidth);
    }

    /// <summary>Answers ScottPlot's font requests for <see cref="Name"/>, whatever weight or slant; other names fall through.</summary>
    sealed class EmbeddedFontResolver : IFontResolver
    {
        public SKTypeface? CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing spacing) =>
            fontName == Name ? PlotFont.CreateTypeface() : null;

        public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) =>
            fontName == Name ? PlotFont.CreateTypeface() : null;
    }
}
