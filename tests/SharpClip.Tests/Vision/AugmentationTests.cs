using SharpClip.Vision;

namespace SharpClip.Tests.Vision;

public sealed class AugmentationTests
{
    [Fact]
    public void BoxesFitAndFollowScaleAndRatio()
    {
        var crop = new RandomResizedCrop(224);
        var rng = new Random(1234);
        foreach (var (w, h) in new[] { (640, 480), (480, 640), (300, 300), (1000, 200) })
            for (int i = 0; i < 500; i++)
            {
                var box = crop.SampleBox(w, h, rng);
                Assert.True(box.IsInside(w, h) && box.Width > 0 && box.Height > 0, $"{box} outside {w}x{h}");
                double fraction = (double)box.Width * box.Height / (w * h);
                double ratio = (double)box.Width / box.Height;
                bool sampled = fraction >= 0.9 - 0.02 && fraction <= 1.0 && ratio >= 0.75 - 0.02 && ratio <= 4.0 / 3 + 0.02;
                bool fallback = box.X == (w - box.Width) / 2 && box.Y == (h - box.Height) / 2;
                Assert.True(sampled || fallback, $"{w}x{h}: box {box} has area fraction {fraction:F3} and ratio {ratio:F3}");
            }
    }

    [Fact]
    public void ImpossibleScaleFallsBackToTheLargestCentredCropInRange()
    {
        var crop = new RandomResizedCrop(64, minScale: 2, maxScale: 3);
        Assert.Equal(new PixelRect(233, 0, 533, 400), crop.SampleBox(1000, 400, new Random(1))); // 400 * 4/3 = 533.3
        Assert.Equal(new PixelRect(0, 0, 300, 300), crop.SampleBox(300, 300, new Random(1)));
    }

    [Fact]
    public void SameSeedSameOutputAndSizeIsRespected()
    {
        var img = new RgbImage(97, 61, TestImages.Noise(97 * 61 * 3, 3));
        var crop = new RandomResizedCrop(32);
        var a = crop.Apply(img, new Random(42));
        var b = crop.Apply(img, new Random(42));
        Assert.Equal((32, 32), (a.Width, a.Height));
        Assert.Equal(a.Pixels, b.Pixels);

        var rng = new Random(42);
        var box = crop.SampleBox(97, 61, rng);
        Assert.Equal(img.Crop(box).Resize(32, 32).Pixels, a.Pixels);
    }

    [Fact]
    public void AugmentedTensorHasTheCropSize()
    {
        var processor = new ClipImageProcessor();
        var decoded = DecodedImage.FromRgb(new RgbImage(50, 40, TestImages.Noise(50 * 40 * 3, 8)));
        Assert.Equal(3 * 224 * 224, processor.ProcessAugmented(decoded, new RandomResizedCrop(224), new Random(0)).Length);
    }

    [Fact]
    public void FlipHorizontalMirrorsColumns()
    {
        var img = new RgbImage(5, 2, TestImages.Noise(30, 4));
        var flipped = img.FlipHorizontal();
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 5; x++) Assert.Equal(img[x, y], flipped[4 - x, y]);
        Assert.Equal(img.Pixels, flipped.FlipHorizontal().Pixels);
    }
}
