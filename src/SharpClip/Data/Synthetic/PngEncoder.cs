using System.Buffers.Binary;
using System.IO.Compression;
using SharpClip.Vision;

namespace SharpClip.Data.Synthetic;

/// <summary>
/// A minimal PNG writer for 8-bit RGB, so the synthetic set can be exported as an ordinary image dataset without an
/// imaging library: signature, IHDR, one zlib-compressed IDAT (every row with filter type 0), IEND, each chunk with
/// its CRC-32. Any PNG reader can decode it; encoding speed and size are not a goal.
/// </summary>
public static class PngEncoder
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Encodes [height, width, 3] bytes.</summary>
    public static byte[] EncodeRgb(int width, int height, ReadOnlySpan<byte> rgbHwc)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"PNG size {width}x{height} must be positive");
        if (rgbHwc.Length != (long)width * height * 3)
            throw new ArgumentException($"{rgbHwc.Length} bytes for a {width}x{height} RGB image (expected {(long)width * height * 3})", nameof(rgbHwc));

        using var output = new MemoryStream();
        output.Write(Signature);

        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], height);
        ihdr[8] = 8;   // bit depth
        ihdr[9] = 2;   // colour type: truecolour
        ihdr[10] = 0;  // deflate
        ihdr[11] = 0;  // adaptive filtering (each row says its filter)
        ihdr[12] = 0;  // no interlace
        WriteChunk(output, "IHDR", ihdr);

        using (var idat = new MemoryStream())
        {
            using (var z = new ZLibStream(idat, CompressionLevel.Optimal, leaveOpen: true))
            {
                int stride = width * 3;
                for (int y = 0; y < height; y++)
                {
                    z.WriteByte(0);   // filter: none
                    z.Write(rgbHwc.Slice(y * stride, stride));
                }
            }
            WriteChunk(output, "IDAT", idat.GetBuffer().AsSpan(0, (int)idat.Length));
        }
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void WriteChunk(Stream s, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, data.Length);
        for (int i = 0; i < 4; i++) head[4 + i] = (byte)type[i];
        s.Write(head);
        s.Write(data);
        uint crc = Crc32.Update(Crc32.Update(Crc32.Initial, head[4..]), data);
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(tail, Crc32.Finish(crc));
        s.Write(tail);
    }
}
