using SharpClip.Vision;

namespace SharpClip.Search;

/// <summary>
/// Notes on images that index without error but will not search as their owner expects. Today one case: a 16-bit grey
/// PNG opens in Pillow's mode "I" and <c>convert("RGB")</c> clips every sample above 255 to white, so a normal 16-bit
/// scan (samples up to 65535) embeds, and previews, as a (nearly) white card. SharpClip keeps that conversion on purpose
/// (embeddings must match the reference), so instead of a silently blank thumbnail the index records why.
/// </summary>
public static class ImageWarnings
{
    /// <summary>Share of pixels that must clip to white before the image counts as "(nearly) blank".</summary>
    public const double BlankShare = 0.5;

    /// <summary>
    /// The warning for the image file at <paramref name="path"/>, or null. Reads a few header bytes of every file and
    /// decodes only 16-bit grey PNGs; a file that cannot be read gets no warning (the encoder reports it as a failure).
    /// </summary>
    public static string? For(string path)
    {
        try
        {
            Span<byte> head = stackalloc byte[64];
            int n;
            using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1))
                n = fs.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            // Only a PNG can open as mode "I" (16-bit grey); its IHDR lies within the first 33 bytes.
            if (n < 33 || !head[..8].SequenceEqual(PngSignature)) return null;
            if (ImageDecoder.ReadHeader(head[..n], path).Mode != PillowMode.I) return null;
            return ForGrey16(ImageDecoder.Decode(path).IntSamples);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ImageDecodeException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>The warning for mode "I" samples (see <see cref="For"/>): null unless at least <see cref="BlankShare"/> of them clip.</summary>
    public static string? ForGrey16(ReadOnlySpan<int> samples)
    {
        if (samples.IsEmpty) return null;
        long clipped = 0;
        foreach (int v in samples) if (v >= 255) clipped++;   // Pillow's I → RGB: v <= 0 → 0, v >= 255 → 255
        double share = (double)clipped / samples.Length;
        return share < BlankShare ? null
            : $"16-bit grey image: Pillow's conversion clips it; it embeds as (nearly) blank ({Math.Floor(share * 100):0}% of pixels clip to white)";
    }

    static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
}
