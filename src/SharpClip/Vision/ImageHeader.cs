namespace SharpClip.Vision;

/// <summary>
/// What a file's header says, read without decoding any pixel: the format, the size and the mode Pillow would open it
/// in. Reading this first lets the decoder refuse decompression bombs and unsupported files cheaply.
/// </summary>
public sealed record ImageHeader(ImageFormat Format, int Width, int Height, PillowMode Mode)
{
    /// <summary>Width × height, as Pillow's decompression-bomb check computes it.</summary>
    public long PixelCount => (long)Width * Height;

    /// <summary>GIF only: the palette in effect for the first frame (RGB triples), or null.</summary>
    internal byte[]? GifPalette { get; init; }

    /// <summary>GIF only: the first frame's transparent index, or -1.</summary>
    internal int GifTransparentIndex { get; init; } = -1;

    /// <summary>GIF only: where the first frame lies on the logical screen.</summary>
    internal PixelRect GifFrame { get; init; }
}
