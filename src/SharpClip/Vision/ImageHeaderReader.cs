using System.Buffers.Binary;

namespace SharpClip.Vision;

/// <summary>
/// Sniffs the format from the first bytes (as Pillow's plugins do, never from the file extension) and parses just
/// enough of each header to know the size and Pillow's opening mode.
/// </summary>
internal static class ImageHeaderReader
{
    internal static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static ImageFormat? Sniff(ReadOnlySpan<byte> d)
    {
        if (d.Length >= 8 && d[..8].SequenceEqual(PngSignature)) return ImageFormat.Png;
        if (d.Length >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return ImageFormat.Jpeg;
        if (d.Length >= 6 && d[..3].SequenceEqual("GIF"u8) && (d[3..6].SequenceEqual("87a"u8) || d[3..6].SequenceEqual("89a"u8))) return ImageFormat.Gif;
        if (d.Length >= 2 && d[0] == (byte)'B' && d[1] == (byte)'M') return ImageFormat.Bmp;
        if (d.Length >= 12 && d[..4].SequenceEqual("RIFF"u8) && d[8..12].SequenceEqual("WEBP"u8)) return ImageFormat.WebP;
        if (IcoReader.Sniff(d)) return ImageFormat.Ico;
        return null;
    }

    /// <summary>Parses the header; throws <see cref="ImageDecodeException"/> naming <paramref name="file"/>.</summary>
    public static ImageHeader Read(ReadOnlySpan<byte> data, string file)
    {
        if (data.IsEmpty) throw new ImageDecodeException(file, ImageDecodeError.Empty, "file is empty (0 bytes)");
        var format = Sniff(data) ?? throw new ImageDecodeException(file, ImageDecodeError.UnsupportedFormat,
            $"not a JPEG, PNG, GIF, BMP, WebP or ICO image (starts with {Hex(data[..Math.Min(8, data.Length)])})");
        var header = format switch
        {
            ImageFormat.Png => Png(data, file),
            ImageFormat.Jpeg => Jpeg(data, file),
            ImageFormat.Gif => Gif(data, file),
            ImageFormat.Bmp => BmpReader.ReadHeader(data, file).Header,
            ImageFormat.Ico => IcoReader.ReadHeader(data, file).Header,
            _ => WebP(data, file),
        };
        if (header.Width <= 0 || header.Height <= 0)
            throw new ImageDecodeException(file, ImageDecodeError.Corrupt, $"{DecodeFailure.DisplayName(format)} header gives an empty size {header.Width}x{header.Height}");
        if (header.PixelCount > ImageDecoder.MaxPixels)
            throw new ImageDecodeException(file, ImageDecodeError.TooLarge,
                $"image size ({header.PixelCount} pixels, {header.Width}x{header.Height}) exceeds the limit of {ImageDecoder.MaxPixels} pixels " +
                "(Pillow's decompression-bomb limit)");
        return header;
    }

    static ImageHeader Png(ReadOnlySpan<byte> d, string file)
    {
        // signature, then the IHDR chunk: length, "IHDR", width, height, bit depth, colour type, ...
        if (d.Length < 8 + 8 + 13 + 4) throw Truncated(file, "PNG");
        if (!d[12..16].SequenceEqual("IHDR"u8)) throw new ImageDecodeException(file, ImageDecodeError.Corrupt, "PNG does not start with an IHDR chunk");
        // Like Pillow: a header whose checksum is wrong is corrupt, not an image to guess at.
        if (Crc32.Compute(d[12..29]) != BinaryPrimitives.ReadUInt32BigEndian(d[29..]))
            throw new ImageDecodeException(file, ImageDecodeError.Corrupt, "PNG IHDR chunk has a wrong CRC (corrupted header)");
        uint w = BinaryPrimitives.ReadUInt32BigEndian(d[16..]), h = BinaryPrimitives.ReadUInt32BigEndian(d[20..]);
        // PNG allows 1 to 2^31-1 pixels a side; a larger value is a broken header, not a size to clamp.
        if (w == 0 || h == 0 || w > int.MaxValue || h > int.MaxValue)
            throw new ImageDecodeException(file, ImageDecodeError.Corrupt, $"PNG IHDR says {w}x{h} pixels; each side must be 1 to 2147483647");
        int depth = d[24], colourType = d[25];
        PillowMode? mode = (depth, colourType) switch
        {
            (1, 0) => PillowMode.Bilevel,
            (2 or 4 or 8, 0) => PillowMode.L,
            (16, 0) => PillowMode.I,
            (8 or 16, 2) => PillowMode.RGB,
            (1 or 2 or 4 or 8, 3) => PillowMode.P,
            (8, 4) => PillowMode.LA,
            (16, 4) => PillowMode.RGBA, // Pillow 9.4 opens 16-bit grey+alpha as RGBA ("LA;16B")
            (8 or 16, 6) => PillowMode.RGBA,
            _ => null,
        };
        if (mode is null) throw new ImageDecodeException(file, ImageDecodeError.Corrupt, $"PNG has an invalid bit depth {depth} for colour type {colourType}");
        return new ImageHeader(ImageFormat.Png, ClampDim(w), ClampDim(h), mode.Value);
    }

    static ImageHeader Jpeg(ReadOnlySpan<byte> d, string file)
    {
        int p = 2;
        while (true)
        {
            // Markers are 0xFF followed by a code; any number of 0xFF fill bytes may precede the code.
            if (p >= d.Length) throw Truncated(file, "JPEG");
            if (d[p] != 0xFF) throw new ImageDecodeException(file, ImageDecodeError.Corrupt, $"JPEG has no marker at byte {p}");
            while (p < d.Length && d[p] == 0xFF) p++;
            if (p >= d.Length) throw Truncated(file, "JPEG");
            byte marker = d[p++];
            if (marker is >= 0xD0 and <= 0xD7 or 0x01) continue; // standalone markers
            if (marker is 0xD9 or 0xDA) throw new ImageDecodeException(file, ImageDecodeError.Corrupt, "JPEG has no frame header before its scan data");
            if (p + 2 > d.Length) throw Truncated(file, "JPEG");
            int length = BinaryPrimitives.ReadUInt16BigEndian(d[p..]);
            if (length < 2) throw new ImageDecodeException(file, ImageDecodeError.Corrupt, $"JPEG segment at byte {p} has length {length}");
            bool isFrame = marker is >= 0xC0 and <= 0xCF && marker is not (0xC4 or 0xC8 or 0xCC);
            if (isFrame)
            {
                if (p + 8 > d.Length) throw Truncated(file, "JPEG");
                int h = BinaryPrimitives.ReadUInt16BigEndian(d[(p + 3)..]), w = BinaryPrimitives.ReadUInt16BigEndian(d[(p + 5)..]);
                int components = d[p + 7];
                var mode = components switch
                {
                    1 => PillowMode.L,
                    3 => PillowMode.RGB,
                    4 => PillowMode.CMYK,
                    _ => throw new ImageDecodeException(file, ImageDecodeError.UnsupportedFormat, $"JPEG with {components} colour components is not supported"),
                };
                return new ImageHeader(ImageFormat.Jpeg, w, h, mode);
            }
            p += length;
        }
    }

    static ImageHeader Gif(ReadOnlySpan<byte> d, string file)
    {
        if (d.Length < 13) throw Truncated(file, "GIF");
        int width = BinaryPrimitives.ReadUInt16LittleEndian(d[6..]), height = BinaryPrimitives.ReadUInt16LittleEndian(d[8..]);
        int p = 13;
        byte[]? global = null;
        if ((d[10] & 0x80) != 0)
        {
            int n = 3 << ((d[10] & 7) + 1);
            if (p + n > d.Length) throw Truncated(file, "GIF");
            global = d.Slice(p, n).ToArray();
            p += n;
        }
        int transparent = -1;
        while (true)
        {
            if (p >= d.Length) throw Truncated(file, "GIF");
            byte block = d[p++];
            if (block == 0x21) // extension: label, then sub-blocks until a zero length
            {
                if (p >= d.Length) throw Truncated(file, "GIF");
                byte label = d[p++];
                if (label == 0xF9 && p + 5 <= d.Length && d[p] >= 4)
                    transparent = (d[p + 1] & 1) != 0 ? d[p + 4] : -1;
                while (true)
                {
                    if (p >= d.Length) throw Truncated(file, "GIF");
                    int len = d[p++];
                    if (len == 0) break;
                    p += len;
                }
            }
            else if (block == 0x2C) // the first image descriptor
            {
                if (p + 9 > d.Length) throw Truncated(file, "GIF");
                int x0 = BinaryPrimitives.ReadUInt16LittleEndian(d[p..]), y0 = BinaryPrimitives.ReadUInt16LittleEndian(d[(p + 2)..]);
                int fw = BinaryPrimitives.ReadUInt16LittleEndian(d[(p + 4)..]), fh = BinaryPrimitives.ReadUInt16LittleEndian(d[(p + 6)..]);
                byte flags = d[p + 8];
                p += 9;
                byte[]? palette = global;
                if ((flags & 0x80) != 0)
                {
                    int n = 3 << ((flags & 7) + 1);
                    if (p + n > d.Length) throw Truncated(file, "GIF");
                    palette = d.Slice(p, n).ToArray();
                }
                // Pillow grows the image when the first frame reaches past the logical screen.
                width = Math.Max(width, x0 + fw);
                height = Math.Max(height, y0 + fh);
                // Pillow opens a GIF whose palette is the identity grey ramp (or that has none) as "L", otherwise "P".
                var mode = palette != null && PaletteNeeded(palette) ? PillowMode.P : PillowMode.L;
                return new ImageHeader(ImageFormat.Gif, width, height, mode) { GifPalette = palette, GifTransparentIndex = transparent, GifFrame = new PixelRect(x0, y0, fw, fh) };
            }
            else if (block == 0x3B) throw new ImageDecodeException(file, ImageDecodeError.Corrupt, "GIF has no image");
            // Any other byte: Pillow skips it and reads on.
        }
    }

    static bool PaletteNeeded(byte[] p)
    {
        for (int i = 0; i + 2 < p.Length; i += 3)
            if (!(i / 3 == p[i] && p[i] == p[i + 1] && p[i + 1] == p[i + 2])) return true;
        return false;
    }

    static ImageHeader WebP(ReadOnlySpan<byte> d, string file)
    {
        if (d.Length < 30) throw Truncated(file, "WebP");
        var chunk = d[12..16];
        var body = d[20..];
        if (chunk.SequenceEqual("VP8 "u8))
        {
            // 3-byte frame tag, start code 9D 01 2A, then 14-bit width and height
            if (body[3] != 0x9D || body[4] != 0x01 || body[5] != 0x2A)
                throw new ImageDecodeException(file, ImageDecodeError.Corrupt, "WebP VP8 frame has no start code");
            return new ImageHeader(ImageFormat.WebP, BinaryPrimitives.ReadUInt16LittleEndian(body[6..]) & 0x3FFF,
                BinaryPrimitives.ReadUInt16LittleEndian(body[8..]) & 0x3FFF, PillowMode.RGB);
        }
        if (chunk.SequenceEqual("VP8L"u8))
        {
            if (body[0] != 0x2F) throw new ImageDecodeException(file, ImageDecodeError.Corrupt, "WebP VP8L chunk has no signature");
            uint bits = BinaryPrimitives.ReadUInt32LittleEndian(body[1..]);
            int w = (int)(bits & 0x3FFF) + 1, h = (int)((bits >> 14) & 0x3FFF) + 1;
            bool alpha = ((bits >> 28) & 1) != 0;
            return new ImageHeader(ImageFormat.WebP, w, h, alpha ? PillowMode.RGBA : PillowMode.RGB);
        }
        if (chunk.SequenceEqual("VP8X"u8))
        {
            bool alpha = (body[0] & 0x10) != 0;
            int w = (body[4] | body[5] << 8 | body[6] << 16) + 1, h = (body[7] | body[8] << 8 | body[9] << 16) + 1;
            return new ImageHeader(ImageFormat.WebP, w, h, alpha ? PillowMode.RGBA : PillowMode.RGB);
        }
        throw new ImageDecodeException(file, ImageDecodeError.Corrupt, $"WebP starts with an unknown chunk '{System.Text.Encoding.ASCII.GetString(chunk)}'");
    }

    static int ClampDim(uint v) => v > int.MaxValue ? int.MaxValue : (int)v;

    internal static ImageDecodeException Truncated(string file, string format) =>
        new(file, ImageDecodeError.Truncated, $"{format} file is truncated (ends inside its header)");

    static string Hex(ReadOnlySpan<byte> b) => Convert.ToHexString(b);
}
