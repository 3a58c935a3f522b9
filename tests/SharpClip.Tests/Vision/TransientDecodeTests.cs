using SharpClip.Tests.Infrastructure;
using SharpClip.Vision;
using VipsImage = NetVips.Image;

namespace SharpClip.Tests.Vision;

/// <summary>
/// <see cref="ClipImageProcessor.Process(string)"/> decodes into reused buffers (<see cref="DecodeScratch"/>): its results
/// must be those of the owned path (<see cref="ImageDecoder.Decode(string)"/>, then resize, crop and normalise) whatever
/// the buffers held before, and bad files must fail the same way.
/// </summary>
public sealed class TransientDecodeTests : IDisposable
{
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    static readonly ClipImageProcessor Processor = new(PreprocessingInfo.ForResolution(224));

    /// <summary>A 640×480 noise PNG: larger than most fixtures, so the scratch buffers hold other bytes past the next
    /// image's end (what a reader of the whole buffer, rather than the image's part, would trip over).</summary>
    string LargerImage(int bands)
    {
        var noise = TestImages.Noise(640 * 480 * bands, 11);
        using var image = VipsImage.NewFromMemory(noise, 640, 480, bands, NetVips.Enums.BandFormat.Uchar);
        return _dir.Write($"large{bands}.png", image.PngsaveBuffer());
    }

    public static IEnumerable<object[]> Images => Fixtures.Ids("images");

    [Theory]
    [MemberData(nameof(Images))]
    public void SameAsTheOwnedPath(string id)
    {
        string path = Fixtures.PathOf(Fixtures.Entry("images", id).GetProperty("file").GetString()!);
        var owned = Processor.Normalize(Processor.ResizeAndCrop(ImageDecoder.Decode(path)));
        Processor.Process(LargerImage(3));
        Assert.Equal(owned, Processor.Process(path));
        Processor.Process(LargerImage(4));
        Assert.Equal(owned, Processor.Process(File.ReadAllBytes(path), path));
    }

    [Theory]
    [InlineData("PNG")]
    [InlineData("JPEG")]
    [InlineData("RGBA PNG")]
    public void SmallerImageAfterALargerOne(string kind)
    {
        var bytes = kind == "RGBA PNG" ? RgbaPng() : TestImages.Made[kind]();
        string path = _dir.Write("small." + (kind == "JPEG" ? "jpg" : "png"), bytes);
        var owned = ImageDecoder.Decode(path);
        using var scratch = new DecodeScratch();
        var larger = ImageDecoder.DecodeTransient(LargerImage(3), scratch);
        Assert.Equal(640 * 480 * 3, larger.Samples.Length);
        var borrowed = ImageDecoder.DecodeTransient(path, scratch);
        Assert.Equal((owned.Mode, owned.Width, owned.Height), (borrowed.Mode, borrowed.Width, borrowed.Height));
        Assert.Equal(owned.Samples.Length, borrowed.Samples.Length);
        Assert.True(owned.Samples.SequenceEqual(borrowed.Samples));
        Assert.Equal(Processor.Normalize(Processor.ResizeAndCrop(owned)), Processor.Process(borrowed));
    }

    /// <summary>A 64×48 RGBA PNG with varied alpha: resized premultiplied, the path that read the whole sample array.</summary>
    static byte[] RgbaPng()
    {
        var px = TestImages.Noise(64 * 48 * 4, 21);
        using var image = VipsImage.NewFromMemory(px, 64, 48, 4, NetVips.Enums.BandFormat.Uchar);
        return image.PngsaveBuffer();
    }

    [Theory, MemberData(nameof(TestImages.FixtureFormats), MemberType = typeof(TestImages))]
    public void TruncatedFileFailsAsTheOwnedPathDoes(string format)
    {
        var bytes = File.ReadAllBytes(TestImages.FixtureOf(format));
        var path = _dir.Write("cut." + format.ToLowerInvariant(), bytes[..(bytes.Length / 2)]);
        var owned = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
        Processor.Process(LargerImage(3));
        var transient = Assert.Throws<ImageDecodeException>(() => Processor.Process(path));
        Assert.Equal((owned.Error, owned.Message), (transient.Error, transient.Message));
        // Decoding still works after a failure (the failed decode's buffers went back to the pool).
        Assert.Equal(Processor.Normalize(Processor.ResizeAndCrop(ImageDecoder.Decode(LargerImage(4)))), Processor.Process(LargerImage(4)));
    }

    [Fact]
    public void ALeaseKeepsItsBufferWhileLargeEnoughAndRefusesUseAfterGivenBack()
    {
        var scratch = new DecodeScratch();
        var samples = scratch.Samples(1000);
        Assert.True(samples.Length >= 1000);
        Assert.Same(samples, scratch.Samples(500));
        var larger = scratch.Samples(samples.Length + 1L);
        Assert.True(larger.Length > samples.Length);
        Assert.Same(larger, scratch.Samples(1000));
        scratch.Dispose();
        Assert.Throws<ObjectDisposedException>(() => scratch.Samples(10));
        Assert.Throws<ObjectDisposedException>(() => scratch.File(10));
        scratch.Dispose();                                                         // twice is harmless
    }
}
