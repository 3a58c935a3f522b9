namespace SharpClip.Vision;

/// <summary>
/// Training augmentation as open_clip trains CLIP: torchvision's <c>RandomResizedCrop(size, scale, bicubic)</c> with
/// open_clip's default scale (0.9, 1.0) and torchvision's ratio (3/4, 4/3). The crop is resized with the same
/// Pillow-exact resampler as inference, in the image's opened mode, so training and evaluation see the same pixels
/// for the same crop. The random source is the caller's seeded <see cref="Random"/> (reproducible runs); it does not
/// reproduce torch's random stream.
/// </summary>
public sealed class RandomResizedCrop
{
    public RandomResizedCrop(int size, double minScale = 0.9, double maxScale = 1.0, double minRatio = 3.0 / 4.0, double maxRatio = 4.0 / 3.0,
        ResampleFilter filter = ResampleFilter.Bicubic)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), $"crop size {size} must be positive");
        if (!(minScale > 0 && minScale <= maxScale)) throw new ArgumentOutOfRangeException(nameof(minScale), $"scale range ({minScale}, {maxScale}) is invalid");
        if (!(minRatio > 0 && minRatio <= maxRatio)) throw new ArgumentOutOfRangeException(nameof(minRatio), $"ratio range ({minRatio}, {maxRatio}) is invalid");
        Size = size;
        Scale = (minScale, maxScale);
        Ratio = (minRatio, maxRatio);
        Filter = filter;
    }

    public int Size { get; }

    /// <summary>Range of the crop's area as a fraction of the image's area.</summary>
    public (double Min, double Max) Scale { get; }

    /// <summary>Range of the crop's width / height.</summary>
    public (double Min, double Max) Ratio { get; }

    public ResampleFilter Filter { get; }

    /// <summary>
    /// torchvision's <c>get_params</c>: up to 10 tries of a random area and log-uniform aspect ratio that fits; otherwise
    /// the largest centred crop whose ratio is within range.
    /// </summary>
    public PixelRect SampleBox(int width, int height, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}x{height} is empty");
        double area = (double)width * height;
        double logMin = Math.Log(Ratio.Min), logMax = Math.Log(Ratio.Max);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double targetArea = area * Uniform(random, Scale.Min, Scale.Max);
            double aspect = Math.Exp(Uniform(random, logMin, logMax));
            int w = (int)Math.Round(Math.Sqrt(targetArea * aspect), MidpointRounding.ToEven);
            int h = (int)Math.Round(Math.Sqrt(targetArea / aspect), MidpointRounding.ToEven);
            if (w > 0 && w <= width && h > 0 && h <= height)
            {
                int top = random.Next(0, height - h + 1), left = random.Next(0, width - w + 1);
                return new PixelRect(left, top, w, h);
            }
        }
        double inRatio = (double)width / height;
        int cw = width, ch = height;
        if (inRatio < Ratio.Min) ch = (int)Math.Round(cw / Ratio.Min, MidpointRounding.ToEven);
        else if (inRatio > Ratio.Max) cw = (int)Math.Round(ch * Ratio.Max, MidpointRounding.ToEven);
        return new PixelRect((width - cw) / 2, (height - ch) / 2, cw, ch);
    }

    /// <summary>A random crop resized to <see cref="Size"/> × <see cref="Size"/> (torchvision <c>resized_crop</c>: crop, then Pillow resize).</summary>
    public DecodedImage Apply(DecodedImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        var box = SampleBox(image.Width, image.Height, random);
        return image.Crop(box).Resize(Size, Size, Filter);
    }

    /// <summary>The same on an RGB image.</summary>
    public RgbImage Apply(RgbImage image, Random random) => Apply(DecodedImage.FromRgb(image), random).ToRgb();

    static double Uniform(Random r, double min, double max) => min + (max - min) * r.NextDouble();
}
