using NetVips;
using SharpClip.Files;
using VipsImage = NetVips.Image;

namespace SharpClip.Vision;

/// <summary>
/// Decodes image files into <see cref="DecodedImage"/> in Pillow's opening mode. JPEG, PNG, GIF and WebP go through
/// libvips (NetVips; natives shipped inside the NuGet package): its libjpeg-turbo-family JPEG decoder uses the same
/// defaults as the reference (islow IDCT, fancy upsampling) and matched Pillow/libjpeg-turbo 2.1.5 bit for bit on every
/// fixture, and it exposes raw 16-bit samples and the palette flag that Pillow's mode-dependent resize needs. BMP is
/// read by <see cref="BmpReader"/> (libvips has no BMP loader), and Windows icons by <see cref="IcoReader"/> (its PNG
/// entries through libvips, its bitmaps through the BMP reader). EXIF orientation and ICC profiles are ignored, as the
/// reference ignores them. The header is parsed, and the decompression-bomb limit applied, before any pixel is decoded.
/// Thread-safe.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Pillow's <c>DecompressionBombError</c> threshold: 2 × <c>MAX_IMAGE_PIXELS</c> (1024·1024·1024 / 4 / 3).</summary>
    public const long MaxPixels = 2L * (1024 * 1024 * 1024 / 4 / 3);

    static readonly Log.LogDelegate _quiet = (_, _, _) => { };
    static readonly Lazy<string?> _vipsProblem = new(InitializeVips);

    /// <summary>Loads and configures libvips once; throws <see cref="NotSupportedException"/> if its natives cannot load.</summary>
    internal static void EnsureVips()
    {
        if (_vipsProblem.Value is { } problem)
            throw new NotSupportedException($"libvips (NetVips.Native) could not be loaded: {problem}");
    }

    static string? InitializeVips()
    {
        try
        {
            if (!ModuleInitializer.VipsInitialized) return ModuleInitializer.Exception?.Message ?? "initialisation failed";
            // Decoding happens once per image; libvips' operation cache would only hold memory and file handles.
            Cache.Max = 0;
            Cache.MaxFiles = 0;
            Cache.MaxMem = 0;
            // Parallelism comes from decoding many images at once, not from threads inside one decode.
            NetVips.NetVips.Concurrency = 1;
            // Problems surface as exceptions naming the file; libvips' own warnings would only clutter stderr.
            Log.SetLogHandler("VIPS", Enums.LogLevelFlags.Warning | Enums.LogLevelFlags.Message | Enums.LogLevelFlags.Info | Enums.LogLevelFlags.Debug, _quiet);
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or BadImageFormatException)
        {
            return e.InnerException?.Message ?? e.Message;
        }
    }

    /// <summary>
    /// The header of <paramref name="path"/>: format, size, Pillow mode. Reads the first 1 MiB, and the whole file
    /// only when the header reaches further (a GIF with large extension blocks before its first image).
    /// </summary>
    public static ImageHeader ReadHeader(string path)
    {
        using var fs = OpenFile(path);
        var buffer = new byte[(int)Math.Min(fs.Length, 1 << 20)];
        fs.ReadExactly(buffer);
        try { return ImageHeaderReader.Read(buffer, path); }
        catch (ImageDecodeException e) when (e.Error == ImageDecodeError.Truncated && fs.Length > buffer.Length)
        {
            var all = new byte[fs.Length];
            fs.Position = 0;
            fs.ReadExactly(all);
            return ImageHeaderReader.Read(all, path);
        }
    }

    /// <summary>The header of an in-memory image; <paramref name="name"/> names it in errors.</summary>
    public static ImageHeader ReadHeader(ReadOnlySpan<byte> data, string name) => ImageHeaderReader.Read(data, name);

    /// <summary>Decodes <paramref name="path"/>; throws <see cref="ImageDecodeException"/> (naming the file) for bad data.</summary>
    public static DecodedImage Decode(string path)
    {
        byte[] data;
        using (var fs = OpenFile(path))
        {
            data = new byte[fs.Length];
            fs.ReadExactly(data);
        }
        return Decode(data, path);
    }

    /// <summary>Decodes an in-memory image; <paramref name="name"/> names it in errors.</summary>
    public static DecodedImage Decode(byte[] data, string name)
    {
        ArgumentNullException.ThrowIfNull(data);
        var header = ImageHeaderReader.Read(data, name);
        return header.Format switch
        {
            ImageFormat.Bmp => BmpReader.Decode(data, name),
            ImageFormat.Ico => IcoReader.Decode(data, name, png => DecodeWithVips(png, ImageHeaderReader.Read(png, name), name, null)),
            _ => DecodeWithVips(data, header, name, null),
        };
    }

    /// <summary>
    /// <see cref="Decode(string)"/> into <paramref name="scratch"/>: the file is read into one of its buffers and, where
    /// the decoder's samples are the image's (an RGB JPEG, an RGB or RGBA PNG, a grey one), decoded into the other. The
    /// result is <see cref="DecodedImage.Borrowed"/>: valid while the scratch is held.
    /// </summary>
    internal static DecodedImage DecodeTransient(string path, DecodeScratch scratch)
    {
        byte[] data;
        int length;
        using (var fs = OpenFile(path))
        {
            length = checked((int)fs.Length);
            data = scratch.File(length);
            fs.ReadExactly(data, 0, length);
        }
        return DecodeTransient(data.AsSpan(0, length), path, scratch);
    }

    /// <summary><see cref="Decode(byte[], string)"/> with the samples in <paramref name="scratch"/> where they can be
    /// (see <see cref="DecodeTransient(string, DecodeScratch)"/>).</summary>
    internal static DecodedImage DecodeTransient(ReadOnlySpan<byte> data, string name, DecodeScratch scratch)
    {
        var header = ImageHeaderReader.Read(data, name);
        // BMP and ICO are rare here and their readers take whole arrays: they decode as Decode does.
        return header.Format is ImageFormat.Bmp or ImageFormat.Ico ? Decode(data.ToArray(), name) : DecodeWithVips(data, header, name, scratch);
    }

    /// <summary>Decodes an image from a stream (read to its end); <paramref name="name"/> names it in errors.</summary>
    public static DecodedImage Decode(Stream stream, string name)
    {
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return Decode(ms.ToArray(), name);
    }

    // Only a regular file is opened: opening a FIFO named like an image would block until something writes to it.
    static FileStream OpenFile(string path)
    {
        FileTree.RequireRegularFile(path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
    }

    /// <summary>Decodes with libvips; with <paramref name="scratch"/>, the common case's samples go into its buffer and
    /// the image is borrowed (see <see cref="DecodeTransient(string, DecodeScratch)"/>).</summary>
    static DecodedImage DecodeWithVips(ReadOnlySpan<byte> data, ImageHeader header, string name, DecodeScratch? scratch)
    {
        EnsureVips();
        try
        {
            // failOn: Truncated makes a cut-off file an error instead of grey filler, as Pillow refuses truncated files.
            using var image = VipsImage.NewFromBuffer(data, "", access: Enums.Access.Sequential, failOn: Enums.FailOn.Truncated);
            if (image.Width != header.Width || image.Height != header.Height)
                throw new ImageDecodeException(name, ImageDecodeError.Corrupt,
                    $"{DecodeFailure.DisplayName(header.Format)} header says {header.Width}x{header.Height} but the decoder found {image.Width}x{image.Height}");
            int bands = image.Bands;
            int n = image.Width * image.Height;
            bool wide = image.Format is Enums.BandFormat.Ushort or Enums.BandFormat.Short;
            if (!wide && image.Format != Enums.BandFormat.Uchar)
                throw new ImageDecodeException(name, ImageDecodeError.UnsupportedFormat, $"unsupported sample format {image.Format}");

            if (header.Mode == PillowMode.I)
            {
                var ints = new int[n];
                if (wide)
                {
                    var s = image.WriteToMemory<ushort>();
                    for (int i = 0; i < n; i++) ints[i] = s[i * bands];
                }
                else
                {
                    var s = image.WriteToMemory<byte>();
                    for (int i = 0; i < n; i++) ints[i] = s[i * bands];
                }
                return new DecodedImage(PillowMode.I, image.Width, image.Height, null, ints);
            }

            int ch = header.Mode.Channels();
            bool hasAlpha = bands is 2 or 4;
            // Common case: the decoder's bands already are the mode's samples (RGB JPEG, grey PNG, RGBA PNG, ...).
            bool samplesAreTheImage = bands == ch && header.Format != ImageFormat.Gif;
            if (scratch is not null && samplesAreTheImage && !wide)
                return DecodedImage.Borrowed(header.Mode, image.Width, image.Height, WriteSamples(image, scratch));

            // 16-bit samples become 8-bit the way Pillow's ";16B" unpackers do it: the high byte.
            byte[] src;
            if (wide)
            {
                var s = image.WriteToMemory<ushort>();
                src = new byte[s.Length];
                for (int i = 0; i < s.Length; i++) src[i] = (byte)(s[i] >> 8);
            }
            else src = image.WriteToMemory<byte>();

            if (samplesAreTheImage) return new DecodedImage(header.Mode, image.Width, image.Height, src, null);
            var px = new byte[n * ch];
            int colourBands = hasAlpha ? bands - 1 : bands;
            for (int i = 0; i < n; i++)
            {
                int s = i * bands, d = i * ch;
                switch (header.Mode)
                {
                    case PillowMode.L or PillowMode.Bilevel:
                        px[d] = src[s];
                        break;
                    case PillowMode.LA:
                        px[d] = src[s];
                        px[d + 1] = hasAlpha ? src[s + bands - 1] : (byte)255;
                        break;
                    case PillowMode.CMYK:
                        if (bands < 4) throw new ImageDecodeException(name, ImageDecodeError.Corrupt, $"CMYK JPEG decoded to {bands} bands");
                        px[d] = src[s]; px[d + 1] = src[s + 1]; px[d + 2] = src[s + 2]; px[d + 3] = src[s + 3];
                        break;
                    default: // RGB, P (palette-expanded) and RGBA; grey sources are replicated (16-bit grey+alpha opens as RGBA)
                        for (int c = 0; c < 3; c++) px[d + c] = src[s + (colourBands >= 3 ? c : 0)];
                        if (ch == 4) px[d + 3] = hasAlpha ? src[s + bands - 1] : (byte)255;
                        break;
                }
            }
            if (header.Format == ImageFormat.Gif) RestoreGifIndexColours(px, ch, src, bands, hasAlpha, header);
            return new DecodedImage(header.Mode, image.Width, image.Height, px, null);
        }
        catch (VipsException e)
        {
            throw DecodeFailure.From(e, data, header, name);
        }
    }

    /// <summary>The decoded 8-bit samples, written by libvips straight into the scratch buffer (no buffer of its own to
    /// copy from).</summary>
    static unsafe byte[] WriteSamples(VipsImage image, DecodeScratch scratch)
    {
        long size = (long)image.Width * image.Height * image.Bands;
        var samples = scratch.Samples(size);
        fixed (byte* p = samples)
        {
            using var target = VipsImage.NewFromMemory((nint)p, (ulong)size, image.Width, image.Height, image.Bands, Enums.BandFormat.Uchar);
            image.Write(target);
        }
        return samples;
    }

    /// <summary>
    /// libvips renders a GIF's transparent pixels as transparent black and the screen outside the first frame as
    /// black; Pillow keeps palette indices there (the transparent index, or 0 outside the frame when there is none),
    /// whose colours <c>convert("RGB")</c> then shows. Put those colours back.
    /// </summary>
    static void RestoreGifIndexColours(byte[] px, int ch, byte[] src, int bands, bool hasAlpha, ImageHeader header)
    {
        int t = header.GifTransparentIndex;
        var frame = header.GifFrame;
        bool fullFrame = frame.X <= 0 && frame.Y <= 0 && frame.Right >= header.Width && frame.Bottom >= header.Height;
        if (fullFrame && (t < 0 || !hasAlpha)) return;
        var transparent = Colour(header.GifPalette, Math.Max(t, 0));
        var outside = Colour(header.GifPalette, t >= 0 ? t : 0);
        for (int y = 0, i = 0; y < header.Height; y++)
            for (int x = 0; x < header.Width; x++, i++)
            {
                bool inFrame = x >= frame.X && x < frame.Right && y >= frame.Y && y < frame.Bottom;
                (byte R, byte G, byte B) c;
                if (!inFrame) c = outside;
                else if (t >= 0 && hasAlpha && src[i * bands + bands - 1] == 0) c = transparent;
                else continue;
                if (ch == 1) px[i] = c.R;
                else { px[i * ch] = c.R; px[i * ch + 1] = c.G; px[i * ch + 2] = c.B; }
            }
    }

    // Without a palette (mode "L" from a grey-ramp or missing palette) an index is its own grey value.
    static (byte R, byte G, byte B) Colour(byte[]? palette, int index) =>
        palette != null && 3 * index + 2 < palette.Length
            ? (palette[3 * index], palette[3 * index + 1], palette[3 * index + 2])
            : ((byte)index, (byte)index, (byte)index);
}
