namespace SharpClip.Evaluation.Plotting;

/// <summary>An 8-bit RGB colour, and the few the plots share so they read as one family.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    public static Rgb Grey(byte level) => new(level, level, level);

    public static readonly Rgb White = Grey(255);
    public static readonly Rgb Text = Grey(34);
    public static readonly Rgb SubtleText = Grey(100);
    public static readonly Rgb Axis = Grey(90);
    public static readonly Rgb GridMajor = Grey(200);
    public static readonly Rgb GridMinor = Grey(232);

    /// <summary>The measured series (few-shot probe).</summary>
    public static readonly Rgb Blue = new(31, 90, 190);

    /// <summary>The reference line (zero-shot) and highlights (the confusion matrix's diagonal).</summary>
    public static readonly Rgb Red = new(210, 45, 40);

    /// <summary>Linear blend: <paramref name="t"/> = 0 gives <paramref name="a"/>, 1 gives <paramref name="b"/>.</summary>
    public static Rgb Mix(Rgb a, Rgb b, double t)
    {
        t = double.IsNaN(t) ? 0 : Math.Clamp(t, 0, 1);
        return new((byte)Math.Round(a.R + (b.R - a.R) * t), (byte)Math.Round(a.G + (b.G - a.G) * t), (byte)Math.Round(a.B + (b.B - a.B) * t));
    }

    /// <summary>Perceived brightness 0…255 (Rec. 601 weights): picks dark or light text over a fill.</summary>
    public double Luma => 0.299 * R + 0.587 * G + 0.114 * B;
}
