using System.Buffers.Binary;

namespace SharpClip.Tests.Search;

/// <summary>Test-only writer of uncompressed BMP files (written from the format spec, independent of the library's toy reader).</summary>
public static class TestBmp
{
    /// <summary>A solid-colour image; <paramref name="topDown"/> and <paramref name="bpp"/> 32 exercise the other layouts.</summary>
    public static byte[] Solid(int width, int height, byte r, byte g, byte b, int bpp = 24, bool topDown = false) =>
        Make(width, height, (_, _) => (r, g, b), bpp, topDown);

    public static byte[] Make(int width, int height, Func<int, int, (byte R, byte G, byte B)> pixel, int bpp = 24, bool topDown = false)
    {
        int bytesPerPixel = bpp / 8;
        int stride = (width * bytesPerPixel + 3) / 4 * 4;
        var file = new byte[54 + stride * height];
        file[0] = 0x42; file[1] = 0x4D;
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(2), (uint)file.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(10), 54);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(22), topDown ? -height : height);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(26), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(28), (ushort)bpp);
        for (int y = 0; y < height; y++)
        {
            int fileRow = topDown ? y : height - 1 - y;   // y = 0 is the top of the picture
            for (int x = 0; x < width; x++)
            {
                var (r, g, b) = pixel(x, y);
                int at = 54 + fileRow * stride + x * bytesPerPixel;
                file[at] = b; file[at + 1] = g; file[at + 2] = r;
                if (bytesPerPixel == 4) file[at + 3] = 255;
            }
        }
        return file;
    }
}
