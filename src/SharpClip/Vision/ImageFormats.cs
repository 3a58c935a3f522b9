namespace SharpClip.Vision;

/// <summary>What <see cref="ImageDecoder"/> reads, as the file names that say so.</summary>
public static class ImageFormats
{
    /// <summary>
    /// File extensions (with dot, any case) of the <see cref="ImageFormat"/>s the decoder reads. Everything that picks
    /// image files out of a folder uses this one list, so a format the decoder learns is found everywhere at once (and
    /// one it refuses, as .tif once was, is listed nowhere). The decoder itself goes by the bytes, not the name.
    /// </summary>
    public static IReadOnlySet<string> ReadableExtensions { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".ico",
    };

    /// <summary>Whether <paramref name="path"/>'s extension is one of <see cref="ReadableExtensions"/>.</summary>
    public static bool IsReadableName(string path) => ReadableExtensions.Contains(Path.GetExtension(path));
}
