using System.Buffers.Binary;

using SharpClip.Search;

namespace SharpClip.Demos.Toy;

/// <summary>
/// The only image format <see cref="ToyColorEncoder"/> understands: uncompressed 24/32-bit Windows BMP. It exists so
/// that tests, demos and benchmarks of the search stack run without the real decoder; it is deliberately not a
/// general image decoder (that is Vision/'s job).
/// </summary>
internal static class ToyBmp
{
    public const int MaxSide = 16384;

    /// <summary>Decoded pixels, top row first, 3 bytes (R,G,B) per pixel.</summary>
    public sealed record Bitmap(int Width, int Height, byte[] Rgb);

    /// <summary>Reads the header: width, height, bits per pixel and where the pixels start.</summary>
    public static (int Width, int Height, bool TopDown, int Bpp, int PixelOffset) ReadHeader(ReadOnlySpan<byte> b)
    {
        if (b.Length < 54 || b[0] != (byte)'B' || b[1] != (byte)'M')
            throw new InvalidDataException("not a BMP file (the toy encoder reads only uncompressed BMP)");
        int pixelOffset = BinaryPrimitives.ReadInt32LittleEndian(b[10..]);
        int headerSize = BinaryPrimitives.ReadInt32LittleEndian(b[14..]);
        int width = BinaryPrimitives.ReadInt32LittleEndian(b[18..]);
        int height = BinaryPrimitives.ReadInt32LittleEndian(b[22..]);
        int bpp = BinaryPrimitives.ReadUInt16LittleEndian(b[28..]);
        int compression = BinaryPrimitives.ReadInt32LittleEndian(b[30..]);
        if (headerSize < 40) throw new InvalidDataException($"BMP header size {headerSize} is not supported");
        if (compression != 0 || (bpp != 24 && bpp != 32))
            throw new InvalidDataException($"BMP with {bpp} bits per pixel and compression {compression} is not supported (only uncompressed 24/32-bit)");
        bool topDown = height < 0;
        height = Math.Abs(height);
        if (width <= 0 || height <= 0 || width > MaxSide || height > MaxSide)
            throw new InvalidDataException($"BMP size {width}x{height} is out of range");
        return (width, height, topDown, bpp, pixelOffset);
    }

    public static Bitmap Decode(ReadOnlySpan<byte> b)
    {
        var (w, h, topDown, bpp, offset) = ReadHeader(b);
        int bytesPerPixel = bpp / 8;
        int stride = (w * bytesPerPixel + 3) & ~3;
        if (offset < 54 || (long)offset + (long)stride * h > b.Length)
            throw new InvalidDataException($"BMP pixel data is truncated ({b.Length} bytes for {w}x{h})");
        var rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
        {
            int srcRow = topDown ? y : h - 1 - y;
            var row = b.Slice(offset + srcRow * stride, w * bytesPerPixel);
            for (int x = 0; x < w; x++)
            {
                int s = x * bytesPerPixel, d = (y * w + x) * 3;
                rgb[d] = row[s + 2]; rgb[d + 1] = row[s + 1]; rgb[d + 2] = row[s]; // stored B,G,R
            }
        }
        return new Bitmap(w, h, rgb);
    }

    /// <summary>Writes a bottom-up 24-bit BMP (what every browser shows), used for the toy encoder's thumbnails.</summary>
    public static byte[] Encode(Bitmap bmp)
    {
        int stride = (bmp.Width * 3 + 3) & ~3;
        int size = 54 + stride * bmp.Height;
        var o = new byte[size];
        o[0] = (byte)'B'; o[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(o.AsSpan(2), size);
        BinaryPrimitives.WriteInt32LittleEndian(o.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(o.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(o.AsSpan(18), bmp.Width);
        BinaryPrimitives.WriteInt32LittleEndian(o.AsSpan(22), bmp.Height);
        BinaryPrimitives.WriteUInt16LittleEndian(o.AsSpan(26), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(o.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(o.AsSpan(34), stride * bmp.Height);
        for (int y = 0; y < bmp.Height; y++)
        {
            int dstRow = 54 + (bmp.Height - 1 - y) * stride;
            for (int x = 0; x < bmp.Width; x++)
            {
                int s = (y * bmp.Width + x) * 3, d = dstRow + x * 3;
                o[d] = bmp.Rgb[s + 2]; o[d + 1] = bmp.Rgb[s + 1]; o[d + 2] = bmp.Rgb[s];
            }
        }
        return o;
    }

    /// <summary>Nearest-neighbour shrink so the longer side is at most <paramref name="maxSide"/>; never enlarges.</summary>
    public static Bitmap Shrink(Bitmap src, int maxSide)
    {
        int longer = Math.Max(src.Width, src.Height);
        if (longer <= maxSide) return src;
        int w = Math.Max(1, (int)((long)src.Width * maxSide / longer)), h = Math.Max(1, (int)((long)src.Height * maxSide / longer));
        var rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int sx = (int)((long)x * src.Width / w), sy = (int)((long)y * src.Height / h);
                Array.Copy(src.Rgb, (sy * src.Width + sx) * 3, rgb, (y * w + x) * 3, 3);
            }
        return new Bitmap(w, h, rgb);
    }
}
