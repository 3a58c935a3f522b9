namespace SharpClip.Vision;

/// <summary>The container formats SharpClip decodes: the ones CLIP's reference (Pillow) reads for training and evaluation data.</summary>
public enum ImageFormat { Jpeg, Png, Gif, Bmp, WebP, Ico }

/// <summary>
/// Pillow's image mode right after <c>Image.open</c>. It matters because the reference resizes the image in this mode,
/// before <c>convert("RGB")</c>: palette and bilevel images are resized with nearest neighbour, images with alpha are
/// premultiplied first, 16-bit grey goes through Pillow's 32-bit path. Decoding to RGB first would change the pixels.
/// </summary>
public enum PillowMode
{
    /// <summary>"1": bilevel, samples 0 or 255.</summary>
    Bilevel,
    /// <summary>"L": 8-bit grey.</summary>
    L,
    /// <summary>"I": 32-bit signed integer grey (16-bit grey PNGs open this way).</summary>
    I,
    /// <summary>"P": palette; SharpClip keeps the palette-expanded RGB (nearest resampling commutes with the lookup).</summary>
    P,
    /// <summary>"LA": 8-bit grey with alpha.</summary>
    LA,
    /// <summary>"RGB".</summary>
    RGB,
    /// <summary>"RGBA".</summary>
    RGBA,
    /// <summary>"CMYK" (Adobe JPEGs), converted to RGB with Pillow's naive formula.</summary>
    CMYK,
}

public static class PillowModeExtensions
{
    /// <summary>Pillow's name of the mode ("1", "L", "I", "P", "LA", "RGB", "RGBA", "CMYK").</summary>
    public static string PillowName(this PillowMode mode) => mode switch
    {
        PillowMode.Bilevel => "1",
        _ => mode.ToString(),
    };

    /// <summary>Samples per pixel SharpClip stores for the mode (P is stored palette-expanded as RGB).</summary>
    public static int Channels(this PillowMode mode) => mode switch
    {
        PillowMode.Bilevel or PillowMode.L or PillowMode.I => 1,
        PillowMode.LA => 2,
        PillowMode.P or PillowMode.RGB => 3,
        _ => 4,
    };

    /// <summary>Pillow's <c>resize</c> silently uses nearest neighbour for these modes, whatever filter was asked for.</summary>
    public static bool ForcesNearest(this PillowMode mode) => mode is PillowMode.P or PillowMode.Bilevel;
}
