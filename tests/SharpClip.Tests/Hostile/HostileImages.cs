using System.Buffers.Binary;
using SharpClip.Tests.Vision;
using SharpClip.Vision;

namespace SharpClip.Tests.Hostile;

/// <summary>
/// Small valid images of every format the decoder reads, made here (so no fixture set has to contain them), and the
/// ways of spoiling them: cut at a point, or a header rewritten to lie about the size.
/// </summary>
internal static class HostileImages
{
    public const int Width = TestImages.MadeWidth, Height = TestImages.MadeHeight;

    /// <summary>A valid file of every format the decoder reads, made by the tests (see <see cref="TestImages.Made"/>).</summary>
    public static IReadOnlyDictionary<string, Func<byte[]>> Valid => TestImages.Made;

    /// <summary>
    /// Where the header ends: the shortest prefix from which the size and mode can be read. Cutting before it is
    /// "inside the header", at it "right after the header" (no pixel data at all), beyond it "in the data".
    /// </summary>
    public static int HeaderEnd(byte[] image)
    {
        for (int n = 1; n <= image.Length; n++)
        {
            try
            {
                ImageDecoder.ReadHeader(image.AsSpan(0, n), "probe");
                return n;
            }
            catch (ImageDecodeException) { }
        }
        throw new ArgumentException("not an image the header reader knows");
    }

    /// <summary>The named cut points of a valid file.</summary>
    public static byte[] Cut(byte[] image, string where)
    {
        int header = HeaderEnd(image);
        int n = where switch
        {
            "inside the header" => header / 2,
            "right after the header" => header,
            "in the data" => (header + image.Length) / 2,
            _ => throw new ArgumentException(where),
        };
        return image[..n];
    }

    /// <summary>The file with its declared size rewritten (checksums fixed where the format has them).</summary>
    public static byte[] WithSize(string format, byte[] image, long width, long height)
    {
        var b = (byte[])image.Clone();
        switch (format)
        {
            case "PNG":
                BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(16), (uint)width);
                BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(20), (uint)height);
                BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(29), Crc32.Compute(b.AsSpan(12, 17)));
                break;
            case "JPEG":
                int sof = FrameHeader(b);
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(sof + 3), (ushort)height);
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(sof + 5), (ushort)width);
                break;
            case "GIF": // the logical screen and the first frame both
                BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(6), (ushort)width);
                BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(8), (ushort)height);
                int frame = 13 + 768 + 1;
                BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(frame + 4), (ushort)width);
                BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(frame + 6), (ushort)height);
                break;
            case "BMP":
                BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(18), (int)width);
                BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(22), (int)height);
                break;
            case "ICO": // the first entry's bitmap header (its height counts the AND mask too)
                BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(22 + 4), (int)width);
                BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(22 + 8), (int)(2 * height));
                break;
            case "WEBP": // lossy: the VP8 frame header's 14-bit sides
                if (!b.AsSpan(12, 4).SequenceEqual("VP8 "u8)) throw new ArgumentException("expected a simple lossy WebP");
                BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(26), (ushort)(width & 0x3FFF));
                BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(28), (ushort)(height & 0x3FFF));
                break;
            case "WEBP lossless": // VP8L: 14-bit sides minus one, packed after the signature byte
                if (!b.AsSpan(12, 4).SequenceEqual("VP8L"u8)) throw new ArgumentException("expected a simple lossless WebP");
                uint bits = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(21));
                bits = (bits & ~0xFFFFFFFu) | (uint)((width - 1) & 0x3FFF) | (uint)(((height - 1) & 0x3FFF) << 14);
                BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(21), bits);
                break;
            default: throw new ArgumentException(format);
        }
        return b;
    }

    /// <summary>An icon whose directory says it holds <paramref name="count"/> images.</summary>
    public static byte[] WithEntryCount(byte[] ico, int count) => Patched(ico, b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(4), (ushort)count));

    /// <summary>An icon whose first directory entry points at <paramref name="offset"/>.</summary>
    public static byte[] WithEntryOffset(byte[] ico, int offset) => Patched(ico, b => BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(6 + 12), offset));

    /// <summary>An icon whose first directory entry claims <paramref name="size"/> bytes (where its AND mask is taken to end).</summary>
    public static byte[] WithEntrySize(byte[] ico, int size) => Patched(ico, b => BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(6 + 8), size));

    /// <summary>An icon whose first directory entry claims <paramref name="bpp"/> bits per pixel (below 32: the alpha comes from the AND mask).</summary>
    public static byte[] WithEntryBpp(byte[] ico, int bpp) => Patched(ico, b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(6 + 6), (ushort)bpp));

    static byte[] Patched(byte[] image, Action<byte[]> patch)
    {
        var b = (byte[])image.Clone();
        patch(b);
        return b;
    }

    /// <summary>A WebP whose extended header (VP8X) declares a canvas of the given size, followed by nothing.</summary>
    public static byte[] WebPCanvasOnly(int width, int height)
    {
        var b = new byte[30];
        "RIFF"u8.CopyTo(b);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), 22);
        "WEBPVP8X"u8.CopyTo(b.AsSpan(8));
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), 10);
        int w = width - 1, h = height - 1;
        b[24] = (byte)w; b[25] = (byte)(w >> 8); b[26] = (byte)(w >> 16);
        b[27] = (byte)h; b[28] = (byte)(h >> 8); b[29] = (byte)(h >> 16);
        return b;
    }

    // The offset of the SOF segment's length field.
    static int FrameHeader(byte[] jpeg)
    {
        int p = 2;
        while (p + 4 < jpeg.Length)
        {
            byte marker = jpeg[p + 1];
            if (marker is >= 0xC0 and <= 0xCF && marker is not (0xC4 or 0xC8 or 0xCC)) return p + 2;
            p += 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(p + 2));
        }
        throw new ArgumentException("no JPEG frame header");
    }
}
