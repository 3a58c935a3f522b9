using SharpClip.Vision;

namespace SharpClip.Tests.Vision;

/// <summary>
/// BMP layouts and GIF palette rules, built byte by byte here: each file is decoded and compared with the pixels it was
/// written from, and its Pillow mode with the one Pillow 9.4's plugin assigns.
/// </summary>
public sealed class BmpAndGifTests
{
    const int W = 5, H = 3;

    static byte[] Rgb() => TestImages.Noise(W * H * 3, 7);

    static DecodedImage Decode(byte[] file) => ImageDecoder.Decode(file, "test.bmp");

    static byte[][] Rows(Func<int, int, byte[]> pixel, int bytesPerPixel, bool topDown)
    {
        var rows = new byte[H][];
        for (int r = 0; r < H; r++)
        {
            int y = topDown ? r : H - 1 - r;
            rows[r] = Enumerable.Range(0, W).SelectMany(x => pixel(x, y)).ToArray();
            Assert.Equal(W * bytesPerPixel, rows[r].Length);
        }
        return rows;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bgr24(bool topDown)
    {
        var rgb = Rgb();
        var file = TestImages.Bmp(W, H, 24, Rows((x, y) => { int i = (y * W + x) * 3; return [rgb[i + 2], rgb[i + 1], rgb[i]]; }, 3, topDown), topDown: topDown);
        var img = Decode(file);
        Assert.Equal(PillowMode.RGB, img.Mode);
        Assert.Equal(rgb, img.Samples.ToArray());
    }

    [Fact]
    public void Bgrx32IgnoresTheFourthByte()
    {
        var rgb = Rgb();
        var img = Decode(TestImages.Bmp(W, H, 32, Rows((x, y) => { int i = (y * W + x) * 3; return [rgb[i + 2], rgb[i + 1], rgb[i], 17]; }, 4, false)));
        Assert.Equal(PillowMode.RGB, img.Mode);
        Assert.Equal(rgb, img.Samples.ToArray());
    }

    [Fact]
    public void Bitfields32WithAlphaOpensAsRgba()
    {
        var rgba = TestImages.Noise(W * H * 4, 3);
        var img = Decode(TestImages.Bmp(W, H, 32, Rows((x, y) => { int i = (y * W + x) * 4; return [rgba[i + 2], rgba[i + 1], rgba[i], rgba[i + 3]]; }, 4, false),
            compression: 3, masks: [0xFF0000, 0xFF00, 0xFF, 0xFF000000]));
        Assert.Equal(PillowMode.RGBA, img.Mode);
        Assert.Equal(rgba, img.Samples.ToArray());
    }

    [Fact]
    public void Rgb565ScalesLikePillow()
    {
        var words = Enumerable.Range(0, W * H).Select(i => (ushort)(i * 4099 + 13)).ToArray();
        var img = Decode(TestImages.Bmp(W, H, 16, Rows((x, y) => BitConverter.GetBytes(words[y * W + x]), 2, false),
            compression: 3, masks: [0xF800, 0x7E0, 0x1F, 0]));
        for (int i = 0; i < words.Length; i++)
        {
            int p = words[i];
            // Pillow's BGR;16 unpacker: value * 255 / max, integer division.
            Assert.Equal((p >> 11 & 31) * 255 / 31, img.Samples[3 * i]);
            Assert.Equal((p >> 5 & 63) * 255 / 63, img.Samples[3 * i + 1]);
            Assert.Equal((p & 31) * 255 / 31, img.Samples[3 * i + 2]);
        }
    }

    static byte[] Palette(Func<int, (byte R, byte G, byte B)> colour, int n) =>
        Enumerable.Range(0, n).SelectMany(i => { var c = colour(i); return new[] { c.B, c.G, c.R, (byte)0 }; }).ToArray();

    [Fact]
    public void Palette8OpensAsP()
    {
        var idx = TestImages.Noise(W * H, 5);
        var pal = Palette(i => ((byte)(255 - i), (byte)(i * 7), (byte)(i ^ 0x55)), 256);
        var img = Decode(TestImages.Bmp(W, H, 8, Rows((x, y) => [idx[y * W + x]], 1, false), pal));
        Assert.Equal(PillowMode.P, img.Mode);
        for (int i = 0; i < idx.Length; i++)
            Assert.Equal(new[] { (byte)(255 - idx[i]), (byte)(idx[i] * 7), (byte)(idx[i] ^ 0x55) }, img.Samples.Slice(3 * i, 3).ToArray());
    }

    [Fact]
    public void GreyRampPaletteOpensAsL()
    {
        var idx = TestImages.Noise(W * H, 9);
        var img = Decode(TestImages.Bmp(W, H, 8, Rows((x, y) => [idx[y * W + x]], 1, false), Palette(i => ((byte)i, (byte)i, (byte)i), 256)));
        Assert.Equal(PillowMode.L, img.Mode);
        Assert.Equal(idx, img.Samples.ToArray());
    }

    [Fact]
    public void BlackWhitePaletteOpensAsBilevel()
    {
        // 1 bit per pixel, most significant bit first
        var img = Decode(TestImages.Bmp(W, H, 1, [[0b1010_0000], [0b0101_1000], [0b1111_1000]], Palette(i => i == 0 ? ((byte)0, (byte)0, (byte)0) : ((byte)255, (byte)255, (byte)255), 2)));
        Assert.Equal(PillowMode.Bilevel, img.Mode);
        // stored bottom-up: the last stored row is the top row
        Assert.Equal(new byte[] { 255, 255, 255, 255, 255, 0, 255, 0, 255, 255, 255, 0, 255, 0, 0 }, img.Samples.ToArray());
    }

    [Fact]
    public void Rle8()
    {
        // Bottom row: runs 3 × 1 and 2 × 3, end of line; middle: an absolute run of 5 (padded to an even file offset:
        // the data starts at byte 86), end of line; top: 5 × 2; end of bitmap.
        byte[] rle = [3, 1, 2, 3, 0, 0, 0, 5, 4, 5, 6, 7, 0, 0, 0, 0, 5, 2, 0, 1];
        var pal = Palette(i => ((byte)(i * 50), (byte)(100 + i), (byte)(200 - i)), 8);
        var img = Decode(TestImages.Bmp(W, H, 8, [], pal, compression: 1, rawData: rle));
        Assert.Equal(PillowMode.P, img.Mode);
        int[] expected = [2, 2, 2, 2, 2, 4, 5, 6, 7, 0, 1, 1, 1, 3, 3];
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(new[] { (byte)(expected[i] * 50), (byte)(100 + expected[i]), (byte)(200 - expected[i]) }, img.Samples.Slice(3 * i, 3).ToArray());
    }

    static byte[] GifPalette(Func<int, (byte, byte, byte)> colour) =>
        Enumerable.Range(0, 256).SelectMany(i => { var (r, g, b) = colour(i); return new[] { r, g, b }; }).ToArray();

    [Fact]
    public void GifTransparentPixelsKeepTheirPaletteColour()
    {
        var idx = Enumerable.Range(0, 12 * 7).Select(i => (byte)(i % 5)).ToArray();
        var pal = GifPalette(i => ((byte)(10 + i * 40), (byte)(200 - i * 30), (byte)(i * 3)));
        var img = ImageDecoder.Decode(TestImages.Gif(12, 7, pal, idx, transparentIndex: 3), "t.gif");
        Assert.Equal(PillowMode.P, img.Mode);
        for (int i = 0; i < idx.Length; i++)
            Assert.Equal(pal.AsSpan(3 * idx[i], 3).ToArray(), img.Samples.Slice(3 * i, 3).ToArray());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(7)]
    public void GifOutsideTheFirstFrameIsIndexZeroOrTheTransparentIndex(int transparent)
    {
        // Pillow starts frame 0 from a zero-filled image (or one filled with the transparent index) and pastes the frame.
        var pal = GifPalette(i => ((byte)(i * 3), (byte)(100 + i), (byte)(255 - i)));
        var frame = new PixelRect(2, 1, 3, 2);
        var img = ImageDecoder.Decode(TestImages.Gif(8, 4, pal, [5, 5, 5, 6, 6, 6], transparent, frame), "partial.gif");
        Assert.Equal((8, 4), (img.Width, img.Height));
        int background = Math.Max(transparent, 0);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 8; x++)
            {
                int index = frame.X <= x && x < frame.Right && frame.Y <= y && y < frame.Bottom ? (y == 1 ? 5 : 6) : background;
                Assert.Equal(pal.AsSpan(3 * index, 3).ToArray(), img.Samples.Slice(3 * (y * 8 + x), 3).ToArray());
            }
    }

    [Fact]
    public void GifWithGreyRampPaletteOpensAsL()
    {
        var idx = TestImages.Noise(9 * 4, 2);
        var img = ImageDecoder.Decode(TestImages.Gif(9, 4, GifPalette(i => ((byte)i, (byte)i, (byte)i)), idx), "grey.gif");
        Assert.Equal(PillowMode.L, img.Mode);
        Assert.Equal(idx, img.Samples.ToArray());
    }
}

public sealed class ImageDecoderSourcesTests
{
    [Theory, MemberData(nameof(TestImages.FixtureFormats), MemberType = typeof(TestImages))]
    public void FileBytesAndStreamDecodeTheSame(string format)
    {
        var path = TestImages.FixtureOf(format);
        var fromFile = ImageDecoder.Decode(path);
        using var stream = File.OpenRead(path);
        var fromStream = ImageDecoder.Decode(stream, path);
        Assert.Equal((fromFile.Mode, fromFile.Width, fromFile.Height), (fromStream.Mode, fromStream.Width, fromStream.Height));
        Assert.True(fromFile.Samples.SequenceEqual(fromStream.Samples), format);
    }
}
