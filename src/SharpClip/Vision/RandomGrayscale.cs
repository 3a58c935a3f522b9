namespace SharpClip.Vision;

/// <summary>
/// torchvision's <c>RandomGrayscale(p)</c>: with probability <see cref="Probability"/> the image becomes Pillow's "L"
/// (ITU-R 601-2 luma in Pillow's fixed point) repeated in three channels. It teaches a model that colour is not the
/// concept — useful when the test styles include line art or high-contrast renderings, as the emoji far-shift
/// styles do. The random source is the caller's seeded <see cref="Random"/>.
/// </summary>
public sealed class RandomGrayscale
{
    public RandomGrayscale(double probability)
    {
        if (probability is < 0 or > 1 || double.IsNaN(probability))
            throw new ArgumentOutOfRangeException(nameof(probability), $"grayscale probability {probability} must be in [0, 1]");
        Probability = probability;
    }

    public double Probability { get; }

    /// <summary>Returns <paramref name="image"/> itself, or a grey copy; one random draw per call.</summary>
    public RgbImage Apply(RgbImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        return random.NextDouble() < Probability ? ToGray(image) : image;
    }

    /// <summary>Pillow's <c>convert("L")</c> then back to RGB: L = (19595 R + 38470 G + 7471 B + 2^15) >> 16.</summary>
    public static RgbImage ToGray(RgbImage image)
    {
        var src = image.Pixels;
        var dst = new byte[src.Length];
        for (int i = 0; i < src.Length; i += 3)
        {
            byte l = (byte)((src[i] * 19595 + src[i + 1] * 38470 + src[i + 2] * 7471 + 0x8000) >> 16);
            dst[i] = dst[i + 1] = dst[i + 2] = l;
        }
        return new RgbImage(image.Width, image.Height, dst);
    }
}
