using System.Buffers.Binary;
using System.Text;
using SharpClip.Vision;

namespace SharpClip.Tests.Vision;

public class PngWriterTests
{
    /// <summary>
    /// Checks a written PNG the way a strict reader would — signature, IHDR first and 8-bit RGB, IEND last, every
    /// chunk's CRC against the published CRC-32 — and decodes it with the library's decoder.
    /// </summary>
    internal static (int Width, int Height, byte[] Rgb) Decode(byte[] png)
    {
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        int pos = 8;
        var types = new List<string>();
        while (pos < png.Length)
        {
            int len = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            var type = Encoding.ASCII.GetString(png, pos + 4, 4);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + len));
            Assert.Equal(Crc32.Compute(png.AsSpan(pos + 4, len + 4)), crc);
            if (type == "IHDR") Assert.Equal(new byte[] { 8, 2, 0 }, png.AsSpan(pos + 8 + 8, 3).ToArray()); // depth, truecolour, deflate
            types.Add(type);
            pos += 12 + len;
        }
        Assert.Equal("IHDR", types[0]);
        Assert.Equal("IEND", types[^1]);
        var image = ImageDecoder.Decode(png, "written.png");
        Assert.Equal(PillowMode.RGB, image.Mode);
        return (image.Width, image.Height, image.ToRgb().Pixels);
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
        var (w, h, back) = Decode(PngWriter.Encode(new RgbImage(7, 5, rgb)));
        Assert.Equal((7, 5), (w, h));
        Assert.Equal(rgb, back);
    }

    [Fact]
    public void A_wrong_buffer_size_is_rejected() =>
        Assert.Throws<ArgumentException>(() => PngWriter.Encode(new RgbImage(4, 4, new byte[47])));
}
