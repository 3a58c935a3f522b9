using System.Buffers.Binary;

namespace SharpClip.Vision;

/// <summary>
/// Windows icons, read the way Pillow 9.4's <c>IcoImagePlugin</c> reads them. An icon is a directory of images; Pillow
/// opens the largest entry (by the directory's width × height, then colour depth; among equals the last one listed), and
/// that entry is either a whole PNG file or a BMP without its 14-byte file header (a DIB) whose height is doubled to
/// cover the AND mask stored after its pixels. A DIB entry always opens as RGBA: for a 32-bit entry (as the directory
/// says) the alpha is every fourth byte of the pixel data, read bottom-up whatever the DIB's row order; otherwise the
/// AND mask (1 = transparent) is the alpha. A PNG entry opens as that PNG would. The size is the entry's own header's,
/// not the directory's (Pillow warns and takes the image's when they differ). Files named <c>.png</c> are often icons,
/// which is why the decoder goes by content.
/// </summary>
internal static class IcoReader
{
    static ReadOnlySpan<byte> Magic => [0, 0, 1, 0];

    const int DirectoryEntrySize = 16;

    /// <summary>One directory entry; a side of 0 means 256.</summary>
    internal sealed record Entry(int Index, int Width, int Height, int ColourCount, int Bpp, uint Size, uint Offset)
    {
        /// <summary>Pillow's <c>color_depth</c>: the bit count, or log2 of the colour count, or 256.</summary>
        public int ColourDepth => Bpp != 0 ? Bpp : ColourCount != 0 ? (int)Math.Ceiling(Math.Log2(ColourCount)) : 256;

        public int Area => Width * Height;

        public override string ToString() => $"entry {Index + 1} ({Width}x{Height}, {Bpp} bpp, at byte {Offset})";
    }

    /// <summary>
    /// The entry Pillow opens and how: <paramref name="Png"/> is the whole PNG from the entry's offset to the end of the
    /// file (Pillow does not bound it by the entry's size); <paramref name="Bitmap"/> is the DIB given a BMP file header
    /// and its height halved, for <see cref="BmpReader"/>.
    /// </summary>
    internal sealed record Layout(ImageHeader Header, Entry Entry, int EntryCount, byte[]? Png, byte[]? Bitmap, int BitmapPixelOffset);

    public static bool Sniff(ReadOnlySpan<byte> d) => d.Length >= 4 && d[..4].SequenceEqual(Magic);

    public static Layout ReadHeader(ReadOnlySpan<byte> d, string file)
    {
        if (d.Length < 6) throw ImageHeaderReader.Truncated(file, "ICO");
        int count = BinaryPrimitives.ReadUInt16LittleEndian(d[4..]);
        if (count == 0) throw new ImageDecodeException(file, ImageDecodeError.Corrupt, "ICO directory lists no images");
        if (6 + count * DirectoryEntrySize > d.Length)
            throw new ImageDecodeException(file, ImageDecodeError.Truncated,
                $"ICO directory lists {count} images but the file ends inside the directory ({d.Length} bytes, the directory needs {6 + count * DirectoryEntrySize})");
        var entries = new List<Entry>(count);
        for (int i = 0; i < count; i++)
        {
            var e = d.Slice(6 + i * DirectoryEntrySize, DirectoryEntrySize);
            entries.Add(new Entry(i, e[0] == 0 ? 256 : e[0], e[1] == 0 ? 256 : e[1], e[2],
                BinaryPrimitives.ReadUInt16LittleEndian(e[6..]), BinaryPrimitives.ReadUInt32LittleEndian(e[8..]), BinaryPrimitives.ReadUInt32LittleEndian(e[12..])));
        }
        // Pillow sorts (stably) by colour depth, then by area, then reverses: largest area first, deepest first among
        // equal areas, and among full ties the entry listed last.
        var chosen = entries.OrderBy(e => e.Area).ThenBy(e => e.ColourDepth).Last();
        long offset = chosen.Offset;
        if (offset >= d.Length)
            throw new ImageDecodeException(file, ImageDecodeError.Truncated,
                $"ICO {chosen} points past the end of the file ({d.Length} bytes)");
        var body = d[(int)offset..];
        if (body.Length >= 8 && body[..8].SequenceEqual(ImageHeaderReader.PngSignature))
        {
            var pngFile = body.ToArray();
            var png = Within(file, chosen, () => ImageHeaderReader.Read(pngFile, file));
            return new Layout(new ImageHeader(ImageFormat.Ico, png.Width, png.Height, png.Mode), chosen, count, pngFile, null, 0);
        }
        byte[] bitmap;
        int pixelOffset;
        try { (bitmap, pixelOffset) = AsBmpFile(body, file); }
        catch (ImageDecodeException e) { throw InEntry(e, file, chosen); }
        var layout = Within(file, chosen, () => BmpReader.ReadHeader(bitmap, file));
        // Pillow's decompression-bomb check sees the DIB's doubled height.
        if (2L * layout.Header.PixelCount > ImageDecoder.MaxPixels)
            throw new ImageDecodeException(file, ImageDecodeError.TooLarge,
                $"ICO {chosen} is a bitmap of {layout.Header.Width}x{2L * layout.Header.Height} pixels, beyond the limit of {ImageDecoder.MaxPixels} pixels (Pillow's decompression-bomb limit)");
        return new Layout(new ImageHeader(ImageFormat.Ico, layout.Header.Width, layout.Header.Height, PillowMode.RGBA), chosen, count, null, bitmap, pixelOffset);
    }

    /// <summary>
    /// The DIB at the start of <paramref name="dib"/> as a BMP file BmpReader reads: a file header whose pixel offset is
    /// where Pillow's DIB reader starts (right after the header, bitfield masks and palette), the height halved.
    /// Returns the file and that pixel offset (within the file).
    /// </summary>
    static (byte[] Bitmap, int PixelOffset) AsBmpFile(ReadOnlySpan<byte> dib, string file)
    {
        if (dib.Length < 16) throw ImageHeaderReader.Truncated(file, "ICO bitmap");
        int headerSize = BinaryPrimitives.ReadInt32LittleEndian(dib);
        if (headerSize is not (12 or 40 or 64 or 108 or 124))
            throw new ImageDecodeException(file, ImageDecodeError.UnsupportedFormat, $"neither a PNG nor a bitmap (header size {headerSize})");
        if (headerSize > dib.Length) throw ImageHeaderReader.Truncated(file, "ICO bitmap");
        var bmp = new byte[14 + dib.Length];
        bmp[0] = (byte)'B';
        bmp[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(2), bmp.Length);
        dib.CopyTo(bmp.AsSpan(14));
        var h = bmp.AsSpan(18);
        int bits, colours = 0, pixelOffset = 14 + headerSize, padding;
        if (headerSize == 12)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(h[2..], (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(h[2..]) / 2));
            bits = BinaryPrimitives.ReadUInt16LittleEndian(h[6..]);
            padding = 3;
        }
        else
        {
            // As BmpReader: a top-down DIB has a negative height (its sign byte 0xFF); the image is half of it.
            uint raw = BinaryPrimitives.ReadUInt32LittleEndian(h[4..]);
            bool topDown = h[7] == 0xFF;
            long full = topDown ? (1L << 32) - raw : raw;
            long half = full / 2;
            BinaryPrimitives.WriteUInt32LittleEndian(h[4..], topDown ? (uint)((1L << 32) - half) : (uint)half);
            bits = BinaryPrimitives.ReadUInt16LittleEndian(h[10..]);
            colours = BinaryPrimitives.ReadInt32LittleEndian(h[28..]);
            if (BinaryPrimitives.ReadInt32LittleEndian(h[12..]) == 3 && headerSize < 56) pixelOffset += 12; // bitfield masks after the header
            padding = 4;
        }
        if (bits <= 8)
        {
            if (colours == 0) colours = 1 << bits;
            if (colours is > 0 and <= 65536) pixelOffset += padding * colours;
        }
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(10), pixelOffset);
        return (bmp, pixelOffset);
    }

    /// <summary>Decodes the entry Pillow opens (<paramref name="decodePng"/> decodes a PNG entry) in Pillow's mode for it.</summary>
    public static DecodedImage Decode(byte[] data, string file, Func<byte[], DecodedImage> decodePng)
    {
        var layout = ReadHeader(data, file);
        var entry = layout.Entry;
        if (layout.Png is { } png) return Within(file, entry, () => decodePng(png));
        var bitmap = layout.Bitmap!;
        var xor = Within(file, entry, () => BmpReader.Decode(bitmap, file));
        int w = xor.Width, h = xor.Height;
        var alpha = entry.Bpp == 32 ? AlphaBytes(bitmap, layout.BitmapPixelOffset, w, h, file, entry) : AndMask(data, entry, w, h, file);
        var rgb = xor.ToRgb().Pixels;
        var rgba = new byte[w * h * 4];
        for (int i = 0; i < w * h; i++)
        {
            rgba[4 * i] = rgb[3 * i];
            rgba[4 * i + 1] = rgb[3 * i + 1];
            rgba[4 * i + 2] = rgb[3 * i + 2];
            rgba[4 * i + 3] = alpha[i];
        }
        return new DecodedImage(PillowMode.RGBA, w, h, rgba, null);
    }

    /// <summary>A 32-bit entry's alpha: every fourth byte of the pixel data, rows bottom-up (Pillow reads them so even for a top-down DIB).</summary>
    static byte[] AlphaBytes(byte[] bitmap, int pixelOffset, int w, int h, string file, Entry entry)
    {
        long need = 4L * w * h;
        if (pixelOffset + need > bitmap.Length)
            throw new ImageDecodeException(file, ImageDecodeError.Truncated, $"ICO {entry}: its alpha data is truncated (needs {need} bytes of pixels)");
        var alpha = new byte[w * h];
        for (int y = 0; y < h; y++)
        {
            int row = pixelOffset + 4 * w * (h - 1 - y);
            for (int x = 0; x < w; x++) alpha[y * w + x] = bitmap[row + 4 * x + 3];
        }
        return alpha;
    }

    /// <summary>
    /// The AND mask as alpha (set bit = transparent = 0): rows of whole 32-bit words, bottom-up, ending where the
    /// directory says the entry ends.
    /// </summary>
    static byte[] AndMask(byte[] data, Entry entry, int w, int h, string file)
    {
        long stride = (w + 31) / 32 * 4;
        long total = stride * h;
        long start = (long)entry.Offset + entry.Size - total;
        if (start < 0 || start + total > data.Length)
            throw new ImageDecodeException(file, ImageDecodeError.Truncated,
                $"ICO {entry}: its AND mask ({total} bytes ending at byte {(long)entry.Offset + entry.Size}) is not inside the file ({data.Length} bytes)");
        var alpha = new byte[w * h];
        for (int y = 0; y < h; y++)
        {
            long row = start + stride * (h - 1 - y);
            for (int x = 0; x < w; x++)
                alpha[y * w + x] = (data[row + (x >> 3)] & (0x80 >> (x & 7))) != 0 ? (byte)0 : (byte)255;
        }
        return alpha;
    }

    /// <summary>Runs a step on the chosen entry, saying in any decode error which entry of the icon it was.</summary>
    static T Within<T>(string file, Entry entry, Func<T> step)
    {
        try { return step(); }
        catch (ImageDecodeException e) { throw InEntry(e, file, entry); }
    }

    static ImageDecodeException InEntry(ImageDecodeException e, string file, Entry entry)
    {
        if (e.Message.Contains("ICO ", StringComparison.Ordinal)) return e;
        string reason = e.Message.StartsWith(file + ": ", StringComparison.Ordinal) ? e.Message[(file.Length + 2)..] : e.Message;
        return new ImageDecodeException(file, e.Error, $"ICO {entry}: {reason}", e.InnerException);
    }
}
