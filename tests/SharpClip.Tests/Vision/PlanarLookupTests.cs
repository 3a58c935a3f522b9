using SharpClip.Vision;

namespace SharpClip.Tests.Vision;

/// <summary>The 16-pixel split (shuffles and gathers) gives the one-pixel-at-a-time loop's floats, bit for bit.</summary>
public unsafe class PlanarLookupTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(47)]
    [InlineData(224 * 224)]
    [InlineData(224 * 224 + 5)]
    public void SplitEqualsThePixelLoop(int pixels)
    {
        var random = new Random(pixels);
        var rgb = new byte[3 * pixels];
        random.NextBytes(rgb);
        // Every sample value at least once per channel when there is room (tables are 256 entries).
        for (int i = 0; i < Math.Min(pixels, 256); i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = (byte)i;
        var tables = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 256).Select(_ => (float)random.NextDouble() * 4 - 2).ToArray()).ToArray();

        var expected = Run(rgb, pixels, tables, vectorized: false);
        var actual = Run(rgb, pixels, tables, vectorized: true);
        Assert.Equal(expected, actual);
        for (int i = 0; i < pixels; i++)
        {
            Assert.Equal(tables[0][rgb[3 * i]], actual[i]);
            Assert.Equal(tables[2][rgb[3 * i + 2]], actual[2 * pixels + i]);
        }
    }

    static float[] Run(byte[] rgb, int pixels, float[][] tables, bool vectorized)
    {
        var planes = new float[3 * pixels];
        fixed (byte* px = rgb)
        fixed (float* p = planes, lr = tables[0], lg = tables[1], lb = tables[2])
        {
            if (vectorized) PlanarLookup.Split(px, pixels, p, p + pixels, p + 2 * pixels, lr, lg, lb);
            else PlanarLookup.Scalar(px, pixels, p, p + pixels, p + 2 * pixels, lr, lg, lb);
        }
        return planes;
    }
}
