using System.Buffers.Binary;
using SharpClip.Vision;

namespace SharpClip.Tests.Vision;

/// <summary>Bad input gives an <see cref="ImageDecodeException"/> that names the file and says why.</summary>
public sealed class ImageDecoderErrorTests : IDisposable
{
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    ImageDecodeException Fails(string path, ImageDecodeError expected)
    {
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
        Assert.Equal(expected, e.Error);
        Assert.Equal(path, e.File);
        Assert.StartsWith(path + ": ", e.Message);
        return e;
    }

    [Fact]
    public void ZeroBytes() => Fails(_dir.Write("empty.jpg", []), ImageDecodeError.Empty);

    [Fact]
    public void NonImage() => Fails(_dir.Write("notes.png", "hello, this is text\n"u8.ToArray()), ImageDecodeError.UnsupportedFormat);

    [Fact]
    public void UnsupportedFormatTiff() =>
        Fails(_dir.Write("scan.tif", [0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0, 0, 0, 0, 0]), ImageDecodeError.UnsupportedFormat);

    [Fact]
    public void MissingFile()
    {
        var path = _dir.File("missing.png");
        var e = Assert.Throws<FileNotFoundException>(() => ImageDecoder.Decode(path));
        Assert.Contains(path, e.Message);
    }

    // Every format the fixture set has; tests/SharpClip.Tests/Hostile cuts images of every format it makes itself.
    [Theory, MemberData(nameof(TestImages.FixtureFormats), MemberType = typeof(TestImages))]
    public void TruncatedFile(string format)
    {
        var bytes = File.ReadAllBytes(TestImages.FixtureOf(format));
        var path = _dir.Write("cut." + format.ToLowerInvariant(), bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(e.Error, new[] { ImageDecodeError.Truncated, ImageDecodeError.Corrupt });
    }

    [Fact]
    public void TruncatedInsideHeader() =>
        Fails(_dir.Write("head.jpg", TestImages.Made["JPEG"]()[..20]), ImageDecodeError.Truncated);

    [Fact]
    public void CorruptPngData()
    {
        var bytes = TestImages.Made["PNG"]();
        for (int i = bytes.Length / 2; i < bytes.Length / 2 + 64; i++) bytes[i] ^= 0x5A;
        var path = _dir.Write("corrupt.png", bytes);
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
        Assert.StartsWith(path + ": ", e.Message);
    }

    [Fact]
    public void DecompressionBombIsRefusedFromTheHeader()
    {
        // No pixel data at all: refusing with TooLarge proves the check ran before decoding.
        var e = Fails(_dir.Write("bomb.png", TestImages.PngHeaderOnly(20000, 20000)), ImageDecodeError.TooLarge);
        Assert.Contains("400000000", e.Message);
        Fails(_dir.Write("bomb.gif", TestImages.Gif(1, 1, new byte[768], [0]).Select((b, i) => i is 6 or 7 or 8 or 9 ? (byte)0xFF : b).ToArray()),
            ImageDecodeError.TooLarge);
    }

    [Fact]
    public void BombLimitIsPillows()
    {
        Assert.Equal(178_956_970, ImageDecoder.MaxPixels);
        var over = TestImages.PngHeaderOnly((uint)ImageDecoder.MaxPixels + 1, 1);
        Assert.Equal(ImageDecodeError.TooLarge, Assert.Throws<ImageDecodeException>(() => ImageDecoder.ReadHeader(over, "over.png")).Error);
        var at = ImageDecoder.ReadHeader(TestImages.PngHeaderOnly((uint)ImageDecoder.MaxPixels, 1), "at.png");
        Assert.Equal(ImageDecoder.MaxPixels, at.PixelCount);
    }

    [Fact]
    public void EmptyDimensions() => Fails(_dir.Write("zero.png", TestImages.PngHeaderOnly(0, 10)), ImageDecodeError.Corrupt);
}

/// <summary>PNG headers that lie: a wrong IHDR checksum (Pillow refuses it) and sides PNG does not allow.</summary>
public sealed class PngHeaderTests : IDisposable
{
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    static byte[] ValidPng() => PngWriter.Encode(new RgbImage(4, 3));

    // Rewrites IHDR's width and height and, unless told not to, its CRC.
    static byte[] WithSize(byte[] png, uint width, uint height, bool fixCrc = true)
    {
        var b = (byte[])png.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(16), width);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(20), height);
        if (fixCrc) BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(29), Crc32.Compute(b.AsSpan(12, 17)));
        return b;
    }

    [Fact]
    public void AValidPngStillDecodes() => Assert.Equal(4, ImageDecoder.Decode(_dir.Write("ok.png", ValidPng())).Width);

    [Fact]
    public void AWrongIhdrCrcIsCorrupt()
    {
        var path = _dir.Write("crc.png", WithSize(ValidPng(), 5, 3, fixCrc: false));
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
        Assert.Equal(ImageDecodeError.Corrupt, e.Error);
        Assert.Contains("CRC", e.Message);
    }

    [Theory]
    [InlineData(4294967295u, 3u)]
    [InlineData(4u, 2147483648u)]
    [InlineData(0u, 3u)]
    public void ASideOutsidePngsRangeIsCorruptAndReportedAsWritten(uint width, uint height)
    {
        var path = _dir.Write("huge.png", WithSize(ValidPng(), width, height));
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
        Assert.Equal(ImageDecodeError.Corrupt, e.Error);
        Assert.Contains($"{width}x{height}", e.Message);
    }
}
