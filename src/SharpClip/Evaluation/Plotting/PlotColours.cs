using ScottPlot;

namespace SharpClip.Evaluation.Plotting;

/// <summary>The few colours the plots share, so they read as one family.</summary>
static class PlotColours
{
    public static readonly Color Text = Color.FromHex("#222222");
    public static readonly Color SubtleText = Color.FromHex("#646464");
    public static readonly Color GridMajor = Color.FromHex("#C8C8C8");
    public static readonly Color GridMinor = Color.FromHex("#E8E8E8");

    /// <summary>The measured series (few-shot probe).</summary>
    public static readonly Color Blue = new(31, 90, 190);

    /// <summary>The reference line (zero-shot) and highlights (the confusion matrix's diagonal).</summary>
    public static readonly Color Red = new(210, 45, 40);
}
