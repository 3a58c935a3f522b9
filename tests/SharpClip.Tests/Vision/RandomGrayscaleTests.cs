using SharpClip.Vision;

namespace SharpClip.Tests.Vision;

public class RandomGrayscaleTests
{
    [Fact]
    public void LumaIsPillowsFixedPointConversion()
    {
        // Pillow: Image.new("RGB", (1, 1), c).convert("L") gives 76, 150, 29, 255, 0 and 128 for these colours.
        var image = new RgbImage(6, 1, [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 128, 128, 128]);
        var gray = RandomGrayscale.ToGray(image);
        Assert.Equal(new byte[] { 76, 76, 76, 150, 150, 150, 29, 29, 29, 255, 255, 255, 0, 0, 0, 128, 128, 128 }, gray.Pixels);
        Assert.Equal(255, image.Pixels[0]); // the input is not modified
    }

    [Fact]
    public void ProbabilityDecidesHowOftenAndTheSeedDecidesWhich()
    {
        var image = new RgbImage(1, 1, [255, 0, 0]);
        int Greys(double p, int seed)
        {
            var g = new RandomGrayscale(p);
            var random = new Random(seed);
            return Enumerable.Range(0, 2000).Count(_ => g.Apply(image, random).Pixels[0] == 76);
        }
        Assert.Equal(0, Greys(0, 1));
        Assert.Equal(2000, Greys(1, 1));
        Assert.InRange(Greys(0.2, 1), 330, 470);
        Assert.Equal(Greys(0.2, 7), Greys(0.2, 7));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomGrayscale(1.5));
    }
}
