namespace SharpClip.Data;

/// <summary>
/// Where a sample's image comes from. Data never decodes: the caller's image pipeline (Vision) turns any of these into
/// pixels, so the readers stay independent of decoders and the loader can decode in parallel workers.
/// </summary>
public abstract class ImageSource
{
    private protected ImageSource() { }

    /// <summary>A short human-readable origin for messages ("photos/cat.jpg", "shard-003.tar:000123.jpg").</summary>
    public abstract string Describe();

    public override string ToString() => Describe();
}

/// <summary>An encoded image file on disk (CSV, JSONL and folder datasets). The path is absolute.</summary>
public sealed class ImageFile(string path) : ImageSource
{
    public string Path { get; } = path;

    /// <summary>Reads the whole encoded file; throws <see cref="FileNotFoundException"/> if it vanished meanwhile.</summary>
    public byte[] ReadAllBytes() => File.ReadAllBytes(Path);

    public override string Describe() => Path;
}

/// <summary>
/// An encoded image held in memory, e.g. a tar shard member: the shard is read as a stream, so the bytes are copied
/// out before the next member is read. <see cref="Format"/> is the lower-case extension ("jpg", "png", "webp").
/// </summary>
public sealed class EncodedImage(ReadOnlyMemory<byte> bytes, string format, string origin) : ImageSource
{
    public ReadOnlyMemory<byte> Bytes { get; } = bytes;
    public string Format { get; } = format;
    public string Origin { get; } = origin;

    /// <summary>A read-only stream over the bytes (no copy when they live in an array, as the tar reader's do).</summary>
    public Stream OpenRead() =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(Bytes, out var seg)
            ? new MemoryStream(seg.Array!, seg.Offset, seg.Count, writable: false)
            : new MemoryStream(Bytes.ToArray(), writable: false);

    public override string Describe() => Origin;
}

/// <summary>
/// Raw 8-bit RGB pixels, row-major height × width × 3 (HWC), e.g. a rendered synthetic scene. The pixels may be
/// rendered lazily on first access (<see cref="RawRgbImage(int,int,Func{byte[]},string)"/>), so a shuffle buffer of
/// thousands of samples costs no pixel memory and rendering runs in the loader's parallel workers.
/// </summary>
public sealed class RawRgbImage : ImageSource
{
    private readonly Lazy<byte[]> _pixels;
    private readonly string _origin;

    public RawRgbImage(int width, int height, byte[] rgbHwc, string origin = "raw pixels")
    {
        Validate(width, height);
        if (rgbHwc.Length != checked(width * height * 3))
            throw new ArgumentException($"raw image '{origin}': {rgbHwc.Length} bytes for {width}x{height} RGB (expected {width * height * 3})", nameof(rgbHwc));
        Width = width;
        Height = height;
        _origin = origin;
        _pixels = new Lazy<byte[]>(rgbHwc);
    }

    /// <summary>Pixels produced by <paramref name="render"/> on first access (thread-safe, at most once).</summary>
    public RawRgbImage(int width, int height, Func<byte[]> render, string origin)
    {
        Validate(width, height);
        Width = width;
        Height = height;
        _origin = origin;
        _pixels = new Lazy<byte[]>(() =>
        {
            var p = render();
            if (p.Length != width * height * 3)
                throw new InvalidOperationException($"raw image '{origin}': renderer gave {p.Length} bytes for {width}x{height} RGB");
            return p;
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>[height, width, 3] bytes, R then G then B.</summary>
    public byte[] RgbHwc => _pixels.Value;

    public override string Describe() => _origin;

    private static void Validate(int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"raw image size {width}x{height} must be positive");
    }
}
