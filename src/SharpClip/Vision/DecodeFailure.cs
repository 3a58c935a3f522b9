using System.Buffers.Binary;
using System.Text.RegularExpressions;

namespace SharpClip.Vision;

/// <summary>
/// Turns a libvips decode failure into the two answers Pillow gives — "image file is truncated" or "broken data
/// stream" — naming the file. libvips speaks in its own class names ("unable to call VipsForeignLoadPngBuffer",
/// "VipsJpeg: premature end of JPEG image") and for PNG often gives no reason at all (its PNG library's complaint goes
/// to the log), so whether the file is cut short is decided here from the format's own end marker, and what libvips
/// did say is kept without its class names.
/// </summary>
internal static partial class DecodeFailure
{
    public static ImageDecodeException From(NetVips.VipsException e, ReadOnlySpan<byte> data, ImageHeader header, string name)
    {
        string format = DisplayName(header.Format);
        string? reason = Reason(e.Message);
        string? missingEnd = MissingEnd(data, header.Format);
        bool truncated = missingEnd is not null || reason is not null && TruncationWords().IsMatch(reason);
        string detail = string.Join("; ", new[] { missingEnd, reason }.Where(s => s is not null));
        string message = truncated ? $"{format} image file is truncated" : $"broken data stream when reading {format} image file";
        return new ImageDecodeException(name, truncated ? ImageDecodeError.Truncated : ImageDecodeError.Corrupt,
            detail.Length > 0 ? $"{message} ({detail})" : message, e);
    }

    public static string DisplayName(ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => "JPEG",
        ImageFormat.Png => "PNG",
        ImageFormat.Gif => "GIF",
        ImageFormat.Bmp => "BMP",
        ImageFormat.WebP => "WebP",
        ImageFormat.Ico => "ICO",
        _ => format.ToString(),
    };

    /// <summary>
    /// libvips' message without its plumbing lines ("unable to call ...", "unable to write to memory") and its
    /// "VipsJpeg: "/"pngload_buffer: "/"webp: " prefixes; null if nothing is left.
    /// </summary>
    static string? Reason(string vipsMessage)
    {
        var lines = vipsMessage.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => VipsPrefix().Replace(l, ""))
            .Where(l => l.Length > 0 && !Plumbing().IsMatch(l))
            .Distinct().ToList();
        return lines.Count == 0 ? null : string.Join("; ", lines);
    }

    /// <summary>Where the file stops short of the end its format requires, or null when that end is there.</summary>
    static string? MissingEnd(ReadOnlySpan<byte> d, ImageFormat format)
    {
        switch (format)
        {
            case ImageFormat.Png:
                bool sawData = false;
                for (long p = 8; p + 8 <= d.Length;)
                {
                    long length = BinaryPrimitives.ReadUInt32BigEndian(d[(int)p..]);
                    var type = System.Text.Encoding.ASCII.GetString(d.Slice((int)p + 4, 4));
                    if (!type.All(char.IsAsciiLetter)) return null; // not a chunk boundary: broken data, not a short file
                    if (p + 12 + length > d.Length) return $"ends inside its {type} chunk";
                    if (type == "IEND") return null;
                    sawData |= type == "IDAT";
                    p += 12 + length;
                }
                return sawData ? "ends before its IEND chunk" : "ends before any image data (IDAT chunk)";
            case ImageFormat.Jpeg:
                var end = d.TrimEnd((byte)0);
                return end.EndsWith((ReadOnlySpan<byte>)[0xFF, 0xD9]) ? null : "ends before its end-of-image marker";
            case ImageFormat.Gif:
                return d[^1] == 0x3B ? null : "ends before its trailer";
            case ImageFormat.WebP:
                long declared = 8L + BinaryPrimitives.ReadUInt32LittleEndian(d[4..]);
                return declared > d.Length ? $"its RIFF header declares {declared} bytes, the file has {d.Length}" : null;
            default:
                return null;
        }
    }

    [GeneratedRegex(@"^([A-Za-z0-9_]*(vips|load|_buffer)[A-Za-z0-9_]*|webp|gif|png|jpeg):\s*", RegexOptions.IgnoreCase)]
    private static partial Regex VipsPrefix();

    [GeneratedRegex(@"^unable to |^libpng read error$|vips", RegexOptions.IgnoreCase)]
    private static partial Regex Plumbing();

    [GeneratedRegex(@"truncat|premature|end of (file|data|stream|image)|\bEOF\b|not enough data|unexpected end", RegexOptions.IgnoreCase)]
    private static partial Regex TruncationWords();
}
