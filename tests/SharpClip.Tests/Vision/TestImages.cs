using System.Buffers.Binary;
using SharpClip.Tests.Infrastructure;
using SharpClip.Vision;
using VipsImage = NetVips.Image;

namespace SharpClip.Tests.Vision;

internal static class TestImages
{
    public const int MadeWidth = 64, MadeHeight = 48;

    /// <summary>
    /// A valid 64x48 file of every format the decoder reads, keyed by the manifest's format names, made here with
    /// libvips' encoders (and the PNG, GIF and BMP writers below), so a test that only needs "a JPEG" never depends on
    /// which formats a fixture set happens to hold.
    /// </summary>
    public static IReadOnlyDictionary<string, Func<byte[]>> Made { get; } = new Dictionary<string, Func<byte[]>>
    {
        ["PNG"] = () => PngWriter.Encode(new RgbImage(MadeWidth, MadeHeight, Pixels())),
        ["JPEG"] = () => Vips(v => v.JpegsaveBuffer(q: 90, keep: NetVips.Enums.ForeignKeep.None)),
        ["GIF"] = () => Gif(MadeWidth, MadeHeight, Noise(768, 3), Noise(MadeWidth * MadeHeight, 4)),
        ["BMP"] = () => Bmp(MadeWidth, MadeHeight, 24, Enumerable.Range(0, MadeHeight)
            .Select(y => Pixels().AsSpan(y * MadeWidth * 3, MadeWidth * 3).ToArray()).ToArray()),
        ["WEBP"] = () => Vips(v => v.WebpsaveBuffer(q: 80, keep: NetVips.Enums.ForeignKeep.None)),
        ["WEBP lossless"] = () => Vips(v => v.WebpsaveBuffer(lossless: true, keep: NetVips.Enums.ForeignKeep.None)),
        ["ICO"] = () => Ico((MadeWidth, MadeHeight, 32, IconBitmap32(MadeWidth, MadeHeight, Pixels(), Noise(MadeWidth * MadeHeight, 5)))),
    };

    /// <summary>A smooth gradient with noise: compresses to a few KB, so every format has real data after its header.</summary>
    static byte[] Pixels()
    {
        var noise = Noise(MadeWidth * MadeHeight * 3, 7);
        var px = new byte[MadeWidth * MadeHeight * 3];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)((i / 3 % MadeWidth) * 3 + (i / 3 / MadeWidth) * 2 + (noise[i] & 15));
        return px;
    }

    static byte[] Vips(Func<VipsImage, byte[]> save)
    {
        using var image = VipsImage.NewFromMemory(Pixels(), MadeWidth, MadeHeight, 3, NetVips.Enums.BandFormat.Uchar);
        return save(image);
    }

    /// <summary>A fixture image's bytes, looked up through the manifest by format (data-driven, never by file name).</summary>
    public static string FixtureOf(string format, bool? lossless = null) =>
        Fixtures.PathOf(Fixtures.Array("images").First(e => e.GetProperty("format").GetString() == format
            && (lossless is null || e.GetProperty("lossless").GetBoolean() == lossless)).GetProperty("file").GetString()!);

    /// <summary>
    /// xunit rows: each format the fixture manifest has an image of, once. A format the set lacks gets no case (and
    /// the case names show which formats ran), rather than a case that fails or passes without its data.
    /// </summary>
    public static IEnumerable<object[]> FixtureFormats =>
        Fixtures.Array("images").Select(e => e.GetProperty("format").GetString()!).Distinct().Order(StringComparer.Ordinal)
            .Select(f => new object[] { f });

    /// <summary>Deterministic pseudo-random bytes.</summary>
    public static byte[] Noise(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>A PNG with only a signature and an IHDR chunk (no pixel data), for header-level tests.</summary>
    public static byte[] PngHeaderOnly(uint width, uint height, byte depth = 8, byte colourType = 2)
    {
        var b = new byte[8 + 25];
        new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }.CopyTo(b, 0);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), 13);
        "IHDR"u8.CopyTo(b.AsSpan(12));
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(16), width);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(20), height);
        b[24] = depth;
        b[25] = colourType;
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(29), Crc32.Compute(b.AsSpan(12, 17))); // a real header's checksum
        return b;
    }

    /// <summary>
    /// A one-frame GIF with an 8-bit palette. LZW data uses 9-bit codes only: a clear code every 250 literals keeps
    /// the decoder's table from growing, which is valid GIF and needs no real compressor.
    /// </summary>
    public static byte[] Gif(int w, int h, byte[] palette768, byte[] indices, int transparentIndex = -1, PixelRect? frame = null)
    {
        var f = frame ?? new PixelRect(0, 0, w, h);
        var o = new List<byte>();
        o.AddRange("GIF89a"u8.ToArray());
        o.AddRange([(byte)w, (byte)(w >> 8), (byte)h, (byte)(h >> 8), 0xF7, 0, 0]); // global table, 256 entries
        o.AddRange(palette768);
        if (transparentIndex >= 0) o.AddRange([0x21, 0xF9, 4, 1, 0, 0, (byte)transparentIndex, 0]);
        o.AddRange([0x2C, (byte)f.X, (byte)(f.X >> 8), (byte)f.Y, (byte)(f.Y >> 8), (byte)f.Width, (byte)(f.Width >> 8), (byte)f.Height, (byte)(f.Height >> 8), 0]);
        o.Add(8); // LZW minimum code size
        var bits = new List<bool>();
        void Code(int c) { for (int i = 0; i < 9; i++) bits.Add(((c >> i) & 1) != 0); }
        Code(256);
        for (int i = 0; i < indices.Length; i++)
        {
            if (i > 0 && i % 250 == 0) Code(256);
            Code(indices[i]);
        }
        Code(257);
        var data = new byte[(bits.Count + 7) / 8];
        for (int i = 0; i < bits.Count; i++) if (bits[i]) data[i / 8] |= (byte)(1 << (i % 8));
        for (int p = 0; p < data.Length; p += 255)
        {
            int n = Math.Min(255, data.Length - p);
            o.Add((byte)n);
            o.AddRange(data.AsSpan(p, n).ToArray());
        }
        o.Add(0);
        o.Add(0x3B);
        return o.ToArray();
    }

    /// <summary>
    /// A BMP with a BITMAPINFOHEADER (40 bytes) or, when <paramref name="masks"/> are given, BI_BITFIELDS masks in a
    /// 108-byte V4 header. <paramref name="rows"/> are the stored rows in file order, unpadded.
    /// </summary>
    public static byte[] Bmp(int w, int h, int bits, byte[][] rows, byte[]? paletteBgrx = null, int compression = 0,
        uint[]? masks = null, bool topDown = false, byte[]? rawData = null)
    {
        int headerSize = masks != null ? 108 : 40;
        int stride = ((w * bits + 31) >> 3) & ~3;
        var pixelData = rawData ?? rows.SelectMany(r => r.Concat(new byte[stride - r.Length])).ToArray();
        int paletteBytes = paletteBgrx?.Length ?? 0;
        int offset = 14 + headerSize + paletteBytes;
        var b = new byte[offset + pixelData.Length];
        b[0] = (byte)'B';
        b[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(2), b.Length);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(10), offset);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(14), headerSize);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(18), w);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(22), topDown ? -h : h);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(28), (short)bits);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(30), compression);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(34), pixelData.Length);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(46), paletteBgrx == null ? 0 : paletteBgrx.Length / 4);
        if (masks != null)
            for (int i = 0; i < 4; i++) BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(54 + 4 * i), masks[i]);
        paletteBgrx?.CopyTo(b, 14 + headerSize);
        pixelData.CopyTo(b, offset);
        return b;
    }

    /// <summary>
    /// A Windows icon of the given entries, in that directory order: each entry's width, height (256 is written as 0),
    /// bit count and payload (a PNG file or an icon bitmap).
    /// </summary>
    public static byte[] Ico(params (int Width, int Height, int Bpp, byte[] Payload)[] entries)
    {
        var o = new List<byte> { 0, 0, 1, 0, (byte)entries.Length, (byte)(entries.Length >> 8) };
        int offset = 6 + 16 * entries.Length;
        foreach (var (w, h, bpp, payload) in entries)
        {
            var e = new byte[16];
            e[0] = (byte)(w % 256);
            e[1] = (byte)(h % 256);
            BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(4), 1);
            BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(6), (ushort)bpp);
            BinaryPrimitives.WriteInt32LittleEndian(e.AsSpan(8), payload.Length);
            BinaryPrimitives.WriteInt32LittleEndian(e.AsSpan(12), offset);
            o.AddRange(e);
            offset += payload.Length;
        }
        foreach (var entry in entries) o.AddRange(entry.Payload);
        return o.ToArray();
    }

    /// <summary>
    /// An icon's 32-bit bitmap: a BITMAPINFOHEADER with the doubled height, BGRA rows bottom-up, then an all-opaque AND
    /// mask. <paramref name="rgb"/> is top row first; <paramref name="alpha"/> one byte per pixel.
    /// </summary>
    public static byte[] IconBitmap32(int w, int h, byte[] rgb, byte[] alpha)
    {
        int maskStride = (w + 31) / 32 * 4;
        var b = new byte[40 + 4 * w * h + maskStride * h];
        BinaryPrimitives.WriteInt32LittleEndian(b, 40);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(4), w);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(8), 2 * h);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(12), 1);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(14), 32);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = y * w + x, p = 40 + 4 * ((h - 1 - y) * w + x);
                b[p] = rgb[3 * i + 2];
                b[p + 1] = rgb[3 * i + 1];
                b[p + 2] = rgb[3 * i];
                b[p + 3] = alpha[i];
            }
        return b;
    }
}
