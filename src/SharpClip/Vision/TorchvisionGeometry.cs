namespace SharpClip.Vision;

/// <summary>
/// The size arithmetic of torchvision 0.14's <c>Resize(int)</c> and <c>CenterCrop</c>, which CLIP's transform uses;
/// small, but an off-by-one here shifts every pixel.
/// </summary>
public static class TorchvisionGeometry
{
    /// <summary>
    /// <c>Resize(size)</c>: the shorter side becomes <paramref name="size"/>, the longer <c>int(size * long / short)</c>
    /// (truncated, in double precision). When the shorter side already is <paramref name="size"/> the size is unchanged
    /// (and Pillow then does not resample at all).
    /// </summary>
    public static (int Width, int Height) ResizeShorterSide(int width, int height, int size)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}x{height} is empty");
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), $"resize size {size} must be positive");
        bool portrait = width <= height;
        int shortSide = portrait ? width : height, longSide = portrait ? height : width;
        if (shortSide == size) return (width, height);
        // Python: int(size * long / short); the product is exact and '/' is one correctly rounded double division.
        int newLong = checked((int)((double)((long)size * longSide) / shortSide));
        return portrait ? (size, newLong) : (newLong, size);
    }

    /// <summary>
    /// <c>CenterCrop((cropHeight, cropWidth))</c> as a box in the input's coordinates. Each side starts at
    /// <c>round((size - crop) / 2)</c> with Python's round (half to even: 44.5 → 44, 61.5 → 62). When the crop is larger
    /// than the image, torchvision pads with zeros (<c>(crop - size) // 2</c> before), so the box starts before 0.
    /// </summary>
    public static PixelRect CenterCropBox(int width, int height, int cropWidth, int cropHeight)
    {
        if (cropWidth <= 0 || cropHeight <= 0) throw new ArgumentOutOfRangeException(nameof(cropWidth), $"crop size {cropWidth}x{cropHeight} must be positive");
        return new PixelRect(Start(width, cropWidth), Start(height, cropHeight), cropWidth, cropHeight);

        static int Start(int size, int crop) =>
            crop > size ? -((crop - size) / 2) : (int)Math.Round((size - crop) / 2.0, MidpointRounding.ToEven);
    }
}
