using ScottPlot;
using SharpClip.Plotting;

namespace SharpClip.Tests.Plotting;

/// <summary>The plots' embedded font: found by ScottPlot without any system font, measured and fitted by us.</summary>
public class PlotFontTests
{
    [Fact]
    public void ScottPlotResolvesThePlotFontToTheEmbeddedDejaVuSans()
    {
        PlotFont.Register();
        using var typeface = PlotFont.CreateTypeface();
        Assert.Equal("DejaVu Sans", typeface.FamilyName);
        // Answered by our resolver, not by a system lookup: the same family on a machine with no fonts installed.
        Assert.Equal("DejaVu Sans", Fonts.GetTypeface(PlotFont.Name, bold: false, italic: false).FamilyName);
        Assert.Equal("DejaVu Sans", Fonts.GetTypeface(PlotFont.Name, bold: true, italic: false).FamilyName);
    }

    [Fact]
    public void MeasureGrowsWithTheTextAndTheSize()
    {
        Assert.Equal(0, PlotFont.Measure("", 12));
        Assert.True(PlotFont.Measure("accuracy", 12) > PlotFont.Measure("acc", 12));
        Assert.InRange(PlotFont.Measure("accuracy", 24), 2 * PlotFont.Measure("accuracy", 12) - 3, 2 * PlotFont.Measure("accuracy", 12) + 3);
        Assert.True(PlotFont.Measure("mw", 12) > PlotFont.Measure("il", 12)); // proportional
    }

    [Theory]
    [InlineData("short", 100)]
    [InlineData("a rather long class name that cannot fit", 60)]
    [InlineData("WWWWWWWW", 40)]
    public void FitCutsWithAnEllipsisOnlyWhenNeeded(string text, float maxWidth)
    {
        var fitted = PlotFont.Fit(text, maxWidth, 12);
        Assert.True(PlotFont.Measure(fitted, 12) <= maxWidth, fitted);
        if (PlotFont.Measure(text, 12) <= maxWidth)
        {
            Assert.Equal(text, fitted);
            return;
        }
        Assert.EndsWith("…", fitted);
        var prefix = fitted[..^1];
        Assert.StartsWith(prefix, text);
        Assert.True(PlotFont.Measure(text[..(prefix.Length + 1)] + "…", 12) > maxWidth, "a longer prefix would have fitted");
    }

    [Fact]
    public void FitGivesAnEllipsisWhenNothingFitsAndNeverSplitsASurrogatePair()
    {
        Assert.Equal("…", PlotFont.Fit("WWW", 3, 12));
        var emoji = string.Concat(Enumerable.Repeat("\U0001F600", 30));
        var fitted = PlotFont.Fit(emoji, 80, 12);
        Assert.EndsWith("…", fitted);
        Assert.Equal(0, (fitted.Length - 1) % 2); // whole pairs only
        Assert.DoesNotContain(fitted[..^1], ch => !char.IsSurrogate(ch));
    }
}
