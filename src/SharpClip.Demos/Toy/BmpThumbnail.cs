using System.Buffers.Binary;
using SharpClip.Vision;

namespace SharpClip.Demos.Toy;

/// <summary>
/// Writes the toy encoder's thumbnails as bottom-up 24-bit BMP (every browser shows it), so its previews stay in the
/// one format it reads. Reading BMP is Vision's job (<see cref="ImageDecoder"/>); only the writer lives here, because
/// the core writes PNG.
/// </summary>
internal static class BmpThumbnail
{
    /// <summary>
    /// <paramref name="image"/> shrunk (nearest neighbour, never enlarged) so its longer side is at most
    /// <paramref name="maxSide"/>, as BMP bytes.
    /// </summary>
    public static byte[] Encode(RgbImage image, int maxSide)
    {
        int longer = Math.Max(image.Width, image.Height);
        if (longer > maxSide)
            image = image.Resize(Math.Max(1, (int)((long)image.Width * maxSide / longer)), Math.Max(1, (int)((long)image.Height * maxSide / longer)),
                ResampleFilter.Nearest);
        int stride = (image.Width * 3 + 3) & ~3;
        int size = 54 + stride * image.Height;
        var o = new byte[size];
        o[0] = (byte)'B'; o[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(o.AsSpan(2), size);
        BinaryPrimitives.WriteInt32LittleEndian(o.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(o.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(o.AsSpan(18), image.Width);
        BinaryPrimitives.WriteInt32LittleEndian(o.AsSpan(22), image.Height);
        BinaryPrimitives.WriteUInt16LittleEndian(o.AsSpan(26), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(o.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(o.AsSpan(34), stride * image.Height);
        var rgb = image.Pixels;
        for (int y = 0; y < image.Height; y++)
        {
            int dstRow = 54 + (image.Height - 1 - y) * stride;
            for (int x = 0; x < image.Width; x++)
            {
                int s = (y * image.Width + x) * 3, d = dstRow + x * 3;
                o[d] = rgb[s + 2]; o[d + 1] = rgb[s + 1]; o[d + 2] = rgb[s]; // stored B,G,R
            }
        }
        return o;
    }
}
