using SharpClip.Vision;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using SharpClip.Data.Synthetic;

namespace SharpClip.Tests.Data;

public class PngEncoderTests
{
    /// <summary>
    /// A test-only reader for the subset the encoder writes (8-bit RGB, filter 0, no interlace), checking the
    /// signature, chunk order and CRCs against the published CRC-32 check value.
    /// </summary>
    internal static (int Width, int Height, byte[] Rgb) Decode(byte[] png)
    {
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        int pos = 8, width = 0, height = 0;
        var idat = new MemoryStream();
        var types = new List<string>();
        while (pos < png.Length)
        {
            int len = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            var type = Encoding.ASCII.GetString(png, pos + 4, 4);
            var data = png.AsSpan(pos + 8, len);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + len));
            Assert.Equal(Crc32.Compute(png.AsSpan(pos + 4, len + 4)), crc);
            types.Add(type);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                Assert.Equal(new byte[] { 8, 2, 0, 0, 0 }, data[8..13].ToArray());
            }
            if (type == "IDAT") idat.Write(data);
            pos += 12 + len;
        }
        Assert.Equal("IHDR", types[0]);
        Assert.Equal("IEND", types[^1]);
        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        var raw = new MemoryStream();
        z.CopyTo(raw);
        var bytes = raw.ToArray();
        Assert.Equal(height * (1 + width * 3), bytes.Length);
        var rgb = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            Assert.Equal(0, bytes[y * (1 + width * 3)]);
            Array.Copy(bytes, y * (1 + width * 3) + 1, rgb, y * width * 3, width * 3);
        }
        return (width, height, rgb);
    }

    [Fact]
    public void Crc32_matches_the_standard_check_value() =>
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));

    [Fact]
    public void Encoded_pixels_decode_back_exactly()
    {
        var rng = new Random(5);
        var rgb = new byte[7 * 5 * 3];
        rng.NextBytes(rgb);
        var (w, h, back) = Decode(PngEncoder.EncodeRgb(7, 5, rgb));
        Assert.Equal((7, 5), (w, h));
        Assert.Equal(rgb, back);
    }

    [Fact]
    public void A_wrong_buffer_size_is_rejected() =>
        Assert.Throws<ArgumentException>(() => PngEncoder.EncodeRgb(4, 4, new byte[47]));
}
