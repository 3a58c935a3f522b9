using ScottPlot;
using SkiaSharp;

namespace SharpClip.Evaluation.Plotting;

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

    const string Resource = "SharpClip.Plotting.DejaVuSans.ttf";

    /// <summary>The font file's bytes, read once; every typeface ScottPlot asks for is made from them.</summary>
    static readonly SKData Data = Load();

    static PlotFont() => Fonts.FontResolvers.Add(new EmbeddedFontResolver());

    /// <summary>Makes sure the resolver is registered (the static constructor runs once, thread-safely).</summary>
    public static void Register() { }

    /// <summary>A new typeface over the embedded font (ScottPlot caches and owns the ones it asks for).</summary>
    public static SKTypeface CreateTypeface() =>
        SKTypeface.FromData(Data) ?? throw new InvalidOperationException($"the embedded font {Resource} could not be read");

    /// <summary>Width in pixels of <paramref name="text"/> at <paramref name="size"/> pixels.</summary>
    public static float Measure(string text, float size)
    {
        using var typeface = CreateTypeface();
        using var font = new SKFont(typeface, size);
        return font.MeasureText(text);
    }

    /// <summary>
    /// <paramref name="text"/> if it fits in <paramref name="maxWidth"/> pixels at <paramref name="size"/>, else its
    /// longest prefix that fits with '…' appended (just '…' if nothing does).
    /// </summary>
    public static string Fit(string text, float maxWidth, float size)
    {
        if (Measure(text, size) <= maxWidth) return text;
        var elements = System.Globalization.StringInfo.ParseCombiningCharacters(text); // never cut a surrogate pair
        int lo = 0, hi = elements.Length;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (Measure(text[..elements[mid - 1]] + "…", size) <= maxWidth) lo = mid; else hi = mid - 1;
        }
        return lo == 0 ? "…" : text[..elements[lo - 1]].TrimEnd() + "…";
    }

    static SKData Load()
    {
        using var stream = typeof(PlotFont).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"the plot font {Resource} is missing from {typeof(PlotFont).Assembly.GetName().Name}");
        return SKData.Create(stream);
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
