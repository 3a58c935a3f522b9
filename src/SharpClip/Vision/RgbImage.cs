namespace SharpClip.Vision;

/// <summary>
/// An 8-bit RGB image, row-major HWC (<c>[height, width, 3]</c>): the currency between decoding, augmentation and the
/// tensor conversion. Deliberately a plain array so other parts (training augmentation, the web UI) can use it
/// without a dependency on the decoder.
/// </summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}x{height} is empty");
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.LongLength != (long)width * height * 3)
            throw new ArgumentException($"pixels has {pixels.Length} bytes; a {width}x{height} RGB image needs {(long)width * height * 3}", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>A black image.</summary>
    public RgbImage(int width, int height) : this(width, height, new byte[checked(width * height * 3)]) { }

    public int Width { get; }
    public int Height { get; }

    /// <summary>[height, width, 3] bytes, R G B per pixel.</summary>
    public byte[] Pixels { get; }

    /// <summary>The pixel at (x, y) as (r, g, b).</summary>
    public (byte R, byte G, byte B) this[int x, int y]
    {
        get
        {
            int i = (y * Width + x) * 3;
            return (Pixels[i], Pixels[i + 1], Pixels[i + 2]);
        }
    }

    /// <summary>A copy of <paramref name="box"/>; parts of the box outside the image are black (torchvision's zero padding).</summary>
    public RgbImage Crop(PixelRect box)
    {
        if (box.Width <= 0 || box.Height <= 0) throw new ArgumentOutOfRangeException(nameof(box), $"crop box {box} is empty");
        var result = new RgbImage(box.Width, box.Height);
        int x0 = Math.Max(0, box.X), x1 = Math.Min(Width, box.Right);
        int y0 = Math.Max(0, box.Y), y1 = Math.Min(Height, box.Bottom);
        if (x1 <= x0) return result;
        for (int y = y0; y < y1; y++)
            Array.Copy(Pixels, (y * Width + x0) * 3, result.Pixels, ((y - box.Y) * box.Width + (x0 - box.X)) * 3, (x1 - x0) * 3);
        return result;
    }

    /// <summary>Pillow's <c>resize</c> of an RGB image (bicubic by default), exact to its 8-bit fixed-point arithmetic.</summary>
    public RgbImage Resize(int width, int height, ResampleFilter filter = ResampleFilter.Bicubic) =>
        DecodedImage.FromRgb(this).Resize(width, height, filter).ToRgb();

    /// <summary>Horizontal mirror (for augmentation).</summary>
    public RgbImage FlipHorizontal()
    {
        var result = new RgbImage(Width, Height);
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                int s = (y * Width + x) * 3, d = (y * Width + Width - 1 - x) * 3;
                result.Pixels[d] = Pixels[s];
                result.Pixels[d + 1] = Pixels[s + 1];
                result.Pixels[d + 2] = Pixels[s + 2];
            }
        return result;
    }

    /// <summary>Writes the image as an 8-bit RGB PNG (lossless, so the file holds exactly these bytes).</summary>
    public void SavePng(string path) => PngWriter.Write(path, this);
}
