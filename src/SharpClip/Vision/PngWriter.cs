using VipsImage = NetVips.Image;

namespace SharpClip.Vision;

/// <summary>Writes 8-bit RGB PNGs through libvips (lossless: the file holds exactly the image's bytes).</summary>
public static class PngWriter
{
    public static void Write(string path, RgbImage image)
    {
        var bytes = Encode(image);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(path, bytes);
    }

    public static byte[] Encode(RgbImage image)
    {
        ImageDecoder.EnsureVips();
        using var vips = VipsImage.NewFromMemory(image.Pixels, image.Width, image.Height, 3, NetVips.Enums.BandFormat.Uchar);
        return vips.PngsaveBuffer(compression: 6);
    }
}
