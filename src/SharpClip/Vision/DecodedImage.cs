namespace SharpClip.Vision;

/// <summary>
/// A decoded image in the mode Pillow would have opened it in (see <see cref="PillowMode"/>): interleaved 8-bit
/// samples, or 32-bit integers for mode "I". Keeping the mode is what lets <see cref="Resize"/> reproduce Pillow's
/// mode-dependent resize, and <see cref="ToRgb"/> Pillow's <c>convert("RGB")</c>.
/// </summary>
public sealed class DecodedImage
{
    readonly byte[]? _bytes;
    readonly int[]? _ints;
    readonly bool _borrowed;

    internal DecodedImage(PillowMode mode, int width, int height, byte[]? bytes, int[]? ints)
        : this(mode, width, height, bytes, ints, borrowed: false) { }

    DecodedImage(PillowMode mode, int width, int height, byte[]? bytes, int[]? ints, bool borrowed)
    {
        Mode = mode;
        Width = width;
        Height = height;
        long expected = (long)width * height * mode.Channels();
        bool fits = mode == PillowMode.I
            ? ints?.LongLength == expected
            : borrowed ? bytes?.LongLength >= expected : bytes?.LongLength == expected;
        if (!fits) throw new ArgumentException($"{mode.PillowName()} image {width}x{height} needs {expected} samples");
        _bytes = bytes;
        _ints = ints;
        _borrowed = borrowed;
    }

    /// <summary>
    /// An 8-bit image over the first samples of a buffer it does not own (<see cref="DecodeScratch"/>): valid only while
    /// the lease on the buffer is held, so only for an image that is resized at once and never handed out. Everything made
    /// from it (resized, cropped, converted) has arrays of its own.
    /// </summary>
    internal static DecodedImage Borrowed(PillowMode mode, int width, int height, byte[] buffer) =>
        mode == PillowMode.I ? throw new ArgumentException("mode I images hold 32-bit samples", nameof(mode)) : new(mode, width, height, buffer, null, borrowed: true);

    public PillowMode Mode { get; }
    public int Width { get; }
    public int Height { get; }

    /// <summary>Samples per pixel in <see cref="Samples"/> (P is stored palette-expanded as RGB).</summary>
    public int Channels => Mode.Channels();

    /// <summary>Interleaved 8-bit samples, <c>[height, width, channels]</c>; not available for mode "I".</summary>
    public ReadOnlySpan<byte> Samples => _bytes is { } b
        ? b.AsSpan(0, Width * Height * Channels)
        : throw new InvalidOperationException("mode I images hold 32-bit samples; use IntSamples");

    /// <summary>Mode "I" samples, <c>[height, width]</c>.</summary>
    public ReadOnlySpan<int> IntSamples => _ints ?? throw new InvalidOperationException($"mode {Mode.PillowName()} images hold 8-bit samples; use Samples");

    /// <summary>Wraps an RGB image (shares its array; neither type mutates pixels it did not allocate).</summary>
    public static DecodedImage FromRgb(RgbImage image) => new(PillowMode.RGB, image.Width, image.Height, image.Pixels, null);

    /// <summary>8-bit samples in the given mode, copied; for tests and callers that decode elsewhere.</summary>
    public static DecodedImage FromSamples(PillowMode mode, int width, int height, ReadOnlySpan<byte> samples) =>
        mode == PillowMode.I
            ? throw new ArgumentException("use FromIntSamples for mode I", nameof(mode))
            : new DecodedImage(mode, width, height, samples.ToArray(), null);

    public static DecodedImage FromIntSamples(int width, int height, ReadOnlySpan<int> samples) =>
        new(PillowMode.I, width, height, null, samples.ToArray());

    /// <summary>
    /// Pillow's <c>Image.resize(size, filter)</c>: a copy when the size is unchanged; nearest neighbour for "P" and "1";
    /// premultiplied alpha for "RGBA"/"LA"; the 32-bit path for "I"; the 8-bit fixed-point path otherwise.
    /// </summary>
    public DecodedImage Resize(int width, int height, ResampleFilter filter = ResampleFilter.Bicubic) =>
        ResizeRegion(width, height, filter, PixelRect.Full(width, height));

    /// <summary>
    /// The <paramref name="region"/> of <c>Resize(width, height, filter)</c>, computing only that region (each output
    /// pixel depends only on its own filter taps, so the bytes are the same as resizing everything and cropping).
    /// </summary>
    public DecodedImage ResizeRegion(int width, int height, ResampleFilter filter, PixelRect region)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"resize target {width}x{height} is empty");
        if (region.Width <= 0 || region.Height <= 0 || !region.IsInside(width, height))
            throw new ArgumentOutOfRangeException(nameof(region), $"region {region} is not inside {width}x{height}");
        if (!Enum.IsDefined(filter)) throw new ArgumentOutOfRangeException(nameof(filter), $"unknown resampling filter {(int)filter}");
        if (width == Width && height == Height) return Crop(region);
        if (Mode.ForcesNearest()) filter = ResampleFilter.Nearest;
        int ch = Channels;
        if (filter == ResampleFilter.Nearest)
            return Mode == PillowMode.I
                ? new DecodedImage(Mode, region.Width, region.Height, null, PillowResampler.Nearest(_ints!, Width, Height, 1, width, height, region))
                : new DecodedImage(Mode, region.Width, region.Height, PillowResampler.Nearest(_bytes!, Width, Height, ch, width, height, region), null);
        if (Mode == PillowMode.I)
            return new DecodedImage(Mode, region.Width, region.Height, null, PillowResampler.Resample32(_ints!, Width, Height, width, height, filter, region));
        if (Mode is PillowMode.RGBA or PillowMode.LA)
        {
            // Pillow: convert to RGBa/La (premultiplied), resize, convert back.
            var resized = PillowResampler.Resample8(PillowConvert.Premultiply(Samples, ch), Width, Height, ch, width, height, filter, region);
            PillowConvert.UnpremultiplyInPlace(resized, ch);
            return new DecodedImage(Mode, region.Width, region.Height, resized, null);
        }
        return new DecodedImage(Mode, region.Width, region.Height, PillowResampler.Resample8(_bytes!, Width, Height, ch, width, height, filter, region), null);
    }

    /// <summary>A copy of a region inside the image, in the same mode.</summary>
    public DecodedImage Crop(PixelRect region)
    {
        if (!region.IsInside(Width, Height) || region.Width == 0 || region.Height == 0)
            throw new ArgumentOutOfRangeException(nameof(region), $"crop {region} is not inside {Width}x{Height}");
        int ch = Channels;
        if (Mode == PillowMode.I)
        {
            var ints = new int[region.Width * region.Height];
            for (int y = 0; y < region.Height; y++)
                Array.Copy(_ints!, (region.Y + y) * Width + region.X, ints, y * region.Width, region.Width);
            return new DecodedImage(Mode, region.Width, region.Height, null, ints);
        }
        var bytes = new byte[region.Width * region.Height * ch];
        for (int y = 0; y < region.Height; y++)
            Array.Copy(_bytes!, ((region.Y + y) * Width + region.X) * ch, bytes, y * region.Width * ch, region.Width * ch);
        return new DecodedImage(Mode, region.Width, region.Height, bytes, null);
    }

    /// <summary>Pillow's <c>convert("RGB")</c>: alpha dropped (no compositing), grey replicated, "I" clamped to 0..255.</summary>
    public RgbImage ToRgb()
    {
        int n = Width * Height;
        var rgb = new byte[n * 3];
        PillowConvert.ToRgb(Mode, _bytes, _ints, n, rgb);
        return new RgbImage(Width, Height, rgb);
    }

    /// <summary>
    /// <see cref="ToRgb"/> for an intermediate image nobody else holds (a resize's result): an RGB image's own array is
    /// taken as it is instead of copied. Not for a borrowed image, whose buffer goes back to the pool.
    /// </summary>
    internal RgbImage ToRgbTakingPixels()
    {
        if (Mode is PillowMode.RGB or PillowMode.P && !_borrowed && _bytes is { } b) return new RgbImage(Width, Height, b);
        return ToRgb();
    }
}
