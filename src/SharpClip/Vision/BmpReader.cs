using System.Buffers.Binary;

namespace SharpClip.Vision;

/// <summary>
/// BMP, read the way Pillow 9.4's <c>BmpImagePlugin</c> reads it. BMP is a raw pixel layout, not a codec, and Pillow's
/// reading of it is itself a set of layout rules (which header sizes, which bitfield masks, greyscale palettes opening as
/// "L"/"1", 32-bit BI_RGB alpha ignored, its RLE decoder's quirks); the native decoder library has no BMP loader, so
/// those rules are followed here directly.
/// </summary>
internal static class BmpReader
{
    const int Raw = 0, Rle8 = 1, Rle4 = 2, Bitfields = 3;

    internal sealed record Layout(ImageHeader Header, int Bits, int Compression, string RawMode, int DataOffset, int PaletteStart,
        int PaletteColors, int PalettePadding, bool TopDown);

    static ImageDecodeException Unsupported(string file, string why) => new(file, ImageDecodeError.UnsupportedFormat, why);

    public static Layout ReadHeader(ReadOnlySpan<byte> d, string file)
    {
        if (d.Length < 18) throw ImageHeaderReader.Truncated(file, "BMP");
        int offset = BinaryPrimitives.ReadInt32LittleEndian(d[10..]);
        int headerSize = BinaryPrimitives.ReadInt32LittleEndian(d[14..]);
        if (headerSize < 12 || 14 + headerSize > d.Length) throw ImageHeaderReader.Truncated(file, "BMP");
        var h = d.Slice(18, headerSize - 4);
        int pos = 14 + headerSize; // where Pillow's file pointer is after the header
        long width, height;
        int bits, compression, colors = 0, padding;
        bool topDown = false;
        uint rMask = 0, gMask = 0, bMask = 0, aMask = 0;
        if (headerSize == 12)
        {
            width = BinaryPrimitives.ReadUInt16LittleEndian(h);
            height = BinaryPrimitives.ReadUInt16LittleEndian(h[2..]);
            bits = BinaryPrimitives.ReadUInt16LittleEndian(h[6..]);
            compression = Raw;
            padding = 3;
        }
        else if (headerSize is 40 or 64 or 108 or 124)
        {
            topDown = h[7] == 0xFF;
            width = BinaryPrimitives.ReadUInt32LittleEndian(h);
            uint rawHeight = BinaryPrimitives.ReadUInt32LittleEndian(h[4..]);
            height = topDown ? (1L << 32) - rawHeight : rawHeight;
            bits = BinaryPrimitives.ReadUInt16LittleEndian(h[10..]);
            compression = BinaryPrimitives.ReadInt32LittleEndian(h[12..]);
            colors = BinaryPrimitives.ReadInt32LittleEndian(h[28..]);
            padding = 4;
            if (compression == Bitfields)
            {
                if (h.Length >= 52)
                {
                    rMask = BinaryPrimitives.ReadUInt32LittleEndian(h[36..]);
                    gMask = BinaryPrimitives.ReadUInt32LittleEndian(h[40..]);
                    bMask = BinaryPrimitives.ReadUInt32LittleEndian(h[44..]);
                    aMask = BinaryPrimitives.ReadUInt32LittleEndian(h[48..]);
                }
                else
                {
                    if (pos + 12 > d.Length) throw ImageHeaderReader.Truncated(file, "BMP");
                    rMask = BinaryPrimitives.ReadUInt32LittleEndian(d[pos..]);
                    gMask = BinaryPrimitives.ReadUInt32LittleEndian(d[(pos + 4)..]);
                    bMask = BinaryPrimitives.ReadUInt32LittleEndian(d[(pos + 8)..]);
                    pos += 12;
                }
            }
        }
        else throw Unsupported(file, $"unsupported BMP header type ({headerSize})");

        if (colors == 0) colors = bits < 31 ? 1 << bits : 0;
        if (offset == 14 + headerSize && bits <= 8) offset += 4 * colors;

        (PillowMode Mode, string Raw)? m = bits switch
        {
            1 => (PillowMode.P, "P;1"),
            4 => (PillowMode.P, "P;4"),
            8 => (PillowMode.P, "P"),
            16 => (PillowMode.RGB, "BGR;15"),
            24 => (PillowMode.RGB, "BGR"),
            32 => (PillowMode.RGB, "BGRX"),
            _ => null,
        };
        if (m is null) throw Unsupported(file, $"unsupported BMP pixel depth ({bits})");
        var (mode, rawMode) = m.Value;
        if (compression == Bitfields)
        {
            string? masked = (bits, rMask, gMask, bMask, aMask) switch
            {
                (32, 0xFF0000, 0xFF00, 0xFF, 0) => "BGRX",
                (32, 0xFF000000, 0xFF0000, 0xFF00, 0) => "XBGR",
                (32, 0xFF000000, 0xFF0000, 0xFF00, 0xFF) => "ABGR",
                (32, 0xFF, 0xFF00, 0xFF0000, 0xFF000000) => "RGBA",
                (32, 0xFF0000, 0xFF00, 0xFF, 0xFF000000) => "BGRA",
                (32, 0, 0, 0, 0) => "BGRA",
                (24, 0xFF0000, 0xFF00, 0xFF, _) => "BGR",
                (16, 0xF800, 0x7E0, 0x1F, _) => "BGR;16",
                (16, 0x7C00, 0x3E0, 0x1F, _) => "BGR;15",
                _ => null,
            };
            rawMode = masked ?? throw Unsupported(file, "unsupported BMP bitfields layout");
            if (rawMode.Contains('A')) mode = PillowMode.RGBA;
        }
        else if (compression is not (Raw or Rle8 or Rle4))
            throw Unsupported(file, $"unsupported BMP compression ({compression})");
        if (compression is Rle8 or Rle4 && bits > 8) throw Unsupported(file, $"BMP RLE compression with {bits}-bit pixels");

        int paletteStart = pos;
        if (mode == PillowMode.P)
        {
            if (colors <= 0 || colors > 65536) throw Unsupported(file, $"unsupported BMP palette size ({colors})");
            // Pillow opens a palette that is exactly black/white as "1" and an identity grey ramp as "L".
            var palette = d[Math.Min(pos, d.Length)..Math.Min(pos + padding * colors, d.Length)];
            bool grey = true;
            for (int i = 0; i < (colors == 2 ? 2 : colors) && grey; i++)
            {
                int v = colors == 2 ? i * 255 : i;
                int at = i * padding;
                grey = at + 3 <= palette.Length && palette[at] == v && palette[at + 1] == v && palette[at + 2] == v;
            }
            if (grey) mode = colors == 2 ? PillowMode.Bilevel : PillowMode.L;
        }
        if (width > int.MaxValue || height > int.MaxValue)
            throw new ImageDecodeException(file, ImageDecodeError.TooLarge, $"BMP size {width}x{height} is too large");
        var header = new ImageHeader(ImageFormat.Bmp, (int)width, (int)height, mode);
        return new Layout(header, bits, compression, rawMode, offset, paletteStart, colors, padding, topDown);
    }

    public static DecodedImage Decode(byte[] data, string file)
    {
        var layout = ReadHeader(data, file);
        var (header, bits) = (layout.Header, layout.Bits);
        int w = header.Width, h = header.Height;
        var palette = Palette(data, layout);
        // Indices (palette images) or packed pixels, top row first.
        if (layout.Compression is Rle8 or Rle4)
        {
            if (header.Mode == PillowMode.Bilevel) throw Unsupported(file, "RLE-compressed black-and-white BMP (Pillow cannot read it either)");
            var indices = DecodeRle(data, layout, file);
            return FromIndices(header, palette, indices);
        }
        int stride = (int)((((long)w * bits + 31) >> 3) & ~3L);
        int rowBytes = (int)(((long)w * bits + 7) >> 3);
        if (layout.DataOffset < 0 || (long)layout.DataOffset + (long)stride * (h - 1) + rowBytes > data.Length)
            throw new ImageDecodeException(file, ImageDecodeError.Truncated, $"BMP pixel data is truncated ({data.Length} bytes)");
        if (bits <= 8)
        {
            var idx = new byte[w * h];
            for (int y = 0; y < h; y++)
            {
                int row = layout.DataOffset + stride * (layout.TopDown ? y : h - 1 - y);
                for (int x = 0; x < w; x++)
                    idx[y * w + x] = bits switch
                    {
                        8 => data[row + x],
                        4 => (byte)((x & 1) == 0 ? data[row + x / 2] >> 4 : data[row + x / 2] & 0x0F),
                        _ => (byte)((data[row + x / 8] >> (7 - (x & 7))) & 1),
                    };
            }
            return FromIndices(header, palette, idx);
        }
        int ch = header.Mode == PillowMode.RGBA ? 4 : 3;
        var px = new byte[w * h * ch];
        for (int y = 0; y < h; y++)
        {
            int row = layout.DataOffset + stride * (layout.TopDown ? y : h - 1 - y);
            for (int x = 0; x < w; x++)
                Unpack(layout.RawMode, data.AsSpan(row + x * (bits / 8)), px.AsSpan((y * w + x) * ch, ch));
        }
        return new DecodedImage(header.Mode, w, h, px, null);
    }

    // Pillow's unpackers for the BMP raw modes (libImaging/Unpack.c); out is RGB or RGBA.
    static void Unpack(string rawMode, ReadOnlySpan<byte> i, Span<byte> o)
    {
        switch (rawMode)
        {
            case "BGR" or "BGRX": o[0] = i[2]; o[1] = i[1]; o[2] = i[0]; break;
            case "XBGR": o[0] = i[3]; o[1] = i[2]; o[2] = i[1]; break;
            case "BGRA": o[0] = i[2]; o[1] = i[1]; o[2] = i[0]; o[3] = i[3]; break;
            case "ABGR": o[0] = i[3]; o[1] = i[2]; o[2] = i[1]; o[3] = i[0]; break;
            case "RGBA": o[0] = i[0]; o[1] = i[1]; o[2] = i[2]; o[3] = i[3]; break;
            case "BGR;15":
            {
                int p = i[0] | i[1] << 8;
                o[2] = (byte)((p & 31) * 255 / 31);
                o[1] = (byte)(((p >> 5) & 31) * 255 / 31);
                o[0] = (byte)(((p >> 10) & 31) * 255 / 31);
                break;
            }
            case "BGR;16":
            {
                int p = i[0] | i[1] << 8;
                o[2] = (byte)((p & 31) * 255 / 31);
                o[1] = (byte)(((p >> 5) & 63) * 255 / 63);
                o[0] = (byte)(((p >> 11) & 31) * 255 / 31);
                break;
            }
            default: throw new NotSupportedException($"BMP raw mode {rawMode}");
        }
    }

    /// <summary>The palette as 256 RGB triples; entries the file does not give keep Pillow's default grey ramp.</summary>
    static byte[] Palette(byte[] d, Layout layout)
    {
        var rgb = new byte[256 * 3];
        for (int i = 0; i < 256; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = (byte)i;
        if (layout.Header.Mode != PillowMode.P) return rgb;
        for (int i = 0; i < Math.Min(256, layout.PaletteColors); i++)
        {
            int at = layout.PaletteStart + i * layout.PalettePadding;
            if (at + 3 > d.Length) break;
            rgb[3 * i] = d[at + 2];
            rgb[3 * i + 1] = d[at + 1];
            rgb[3 * i + 2] = d[at];
        }
        return rgb;
    }

    static DecodedImage FromIndices(ImageHeader header, byte[] palette, byte[] idx)
    {
        int n = idx.Length;
        switch (header.Mode)
        {
            case PillowMode.P:
                var rgb = new byte[n * 3];
                for (int i = 0; i < n; i++)
                {
                    rgb[3 * i] = palette[3 * idx[i]];
                    rgb[3 * i + 1] = palette[3 * idx[i] + 1];
                    rgb[3 * i + 2] = palette[3 * idx[i] + 2];
                }
                return new DecodedImage(PillowMode.P, header.Width, header.Height, rgb, null);
            case PillowMode.Bilevel:
                for (int i = 0; i < n; i++) idx[i] = idx[i] != 0 ? (byte)255 : (byte)0;
                return new DecodedImage(PillowMode.Bilevel, header.Width, header.Height, idx, null);
            default: // L: the identity grey palette, so the index is the grey value
                return new DecodedImage(PillowMode.L, header.Width, header.Height, idx, null);
        }
    }

    /// <summary>Pillow 9.4's <c>BmpRleDecoder</c>, quirks included (its delta escape skips two bytes before reading the offsets).</summary>
    static byte[] DecodeRle(byte[] d, Layout layout, string file)
    {
        int w = layout.Header.Width, h = layout.Header.Height;
        long total = (long)w * h;
        bool rle4 = layout.Compression == Rle4;
        var data = new List<byte>((int)Math.Min(total, 1 << 24));
        int x = 0, p = layout.DataOffset;
        while (data.Count < total)
        {
            if (p + 2 > d.Length) break;
            int count = d[p], b = d[p + 1];
            p += 2;
            if (count != 0)
            {
                if (x + count > w) count = Math.Max(0, w - x);
                for (int i = 0; i < count; i++) data.Add((byte)(rle4 ? (i % 2 == 0 ? b >> 4 : b & 0x0F) : b));
                x += count;
            }
            else if (b == 0)
            {
                while (data.Count % w != 0) data.Add(0);
                x = 0;
            }
            else if (b == 1) break;
            else if (b == 2)
            {
                if (p + 2 > d.Length) break;
                p += 2;
                if (p + 2 > d.Length) throw new ImageDecodeException(file, ImageDecodeError.Truncated, "BMP RLE data is truncated");
                int right = d[p], up = d[p + 1];
                p += 2;
                for (long i = 0, n = right + (long)up * w; i < n; i++) data.Add(0);
                x = data.Count % w;
            }
            else
            {
                int byteCount = rle4 ? b / 2 : b;
                int available = Math.Min(byteCount, d.Length - p);
                for (int i = 0; i < available; i++)
                {
                    if (rle4)
                    {
                        data.Add((byte)(d[p + i] >> 4));
                        data.Add((byte)(d[p + i] & 0x0F));
                    }
                    else data.Add(d[p + i]);
                }
                p += available;
                if (available < byteCount) break;
                x += b;
                if (p % 2 != 0) p++;
            }
        }
        if (data.Count < total)
            throw new ImageDecodeException(file, ImageDecodeError.Truncated, $"BMP RLE data ends after {data.Count} of {total} pixels");
        var idx = new byte[total];
        // Rows arrive bottom-up unless the height was negative.
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < w; xx++)
                idx[(layout.TopDown ? y : h - 1 - y) * w + xx] = data[y * w + xx];
        return idx;
    }
}
