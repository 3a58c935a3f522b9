using ScottPlot;

namespace SharpClip.Plotting;

/// <summary>The few colours the plots share, so they read as one family.</summary>
static class PlotColours
{
    public static readonly Color Text = Color.FromHex("#222222");
    public static readonly Color SubtleText = Color.FromHex("#646464");
    public static readonly Color GridMajor = Color.FromHex("#C8C8C8");
    public static readonly Color GridMinor = Color.FromHex("#E8E8E8");

    /// <summary>The first measured series (few-shot probe).</summary>
    public static readonly Color Blue = new(31, 90, 190);

    /// <summary>The reference line (zero-shot) and highlights (the confusion matrix's diagonal).</summary>
    public static readonly Color Red = new(210, 45, 40);

    /// <summary>Further series and reference lines, in the order <see cref="LinePlot"/> hands them out.</summary>
    public static readonly Color Orange = new(230, 120, 20);
    public static readonly Color Green = new(40, 150, 60);
    public static readonly Color Purple = new(130, 70, 170);
    public static readonly Color Teal = new(20, 140, 140);
    public static readonly Color Brown = new(140, 90, 50);
}
