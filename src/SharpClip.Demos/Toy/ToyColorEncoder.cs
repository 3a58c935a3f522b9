using System.Globalization;
using SharpClip.Search;
using SharpClip.Vision;

namespace SharpClip.Demos.Toy;

/// <summary>
/// A TOY encoder, not CLIP: <c>--model builtin:test-colors</c>. It embeds an image by its mean colour and a text by
/// the colour words it contains, both as soft similarities to a fixed 12-colour palette, so "red" ranks reddish
/// images first. It reads only BMP (through Vision's decoder, as Pillow reads it). It lets tests, demos and benchmarks exercise indexing, search and
/// the web app deterministically and fast without model weights. Setting the environment variable
/// <c>SHARPCLIP_TOY_DELAY_MS</c> makes it sleep that long per image, to simulate a slow model (used by the test that
/// kills an indexing process).
/// </summary>
public sealed class ToyColorEncoder : IImageTextEncoder
{
    /// <summary>The model name the CLI and <see cref="EncoderResolver"/> accept for this encoder.</summary>
    public const string ModelName = "builtin:test-colors";
    public const string DelayVariable = "SHARPCLIP_TOY_DELAY_MS";
    const float Sigma = 0.25f;

    /// <summary>Palette colour names (and their order = embedding axes).</summary>
    public static readonly IReadOnlyList<(string Name, float R, float G, float B)> Palette =
    [
        ("red", 1f, 0f, 0f), ("green", 0f, 0.63f, 0f), ("blue", 0f, 0f, 1f), ("yellow", 1f, 1f, 0f),
        ("cyan", 0f, 1f, 1f), ("magenta", 1f, 0f, 1f), ("orange", 1f, 0.55f, 0f), ("purple", 0.5f, 0f, 0.5f),
        ("white", 1f, 1f, 1f), ("black", 0f, 0f, 0f), ("gray", 0.5f, 0.5f, 0.5f), ("brown", 0.55f, 0.27f, 0.07f),
    ];

    readonly int delayMs;

    public ToyColorEncoder(int delayMsPerImage = -1)
    {
        delayMs = delayMsPerImage >= 0 ? delayMsPerImage
            : int.TryParse(Environment.GetEnvironmentVariable(DelayVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out int d) ? Math.Max(0, d) : 0;
    }

    public string Fingerprint => "toy-colors-v1:palette12:sigma0.25:mean-rgb";
    public int Dimension => Palette.Count;

    /// <summary>The embedding of a colour given as RGB in [0,1]: what both texts and images map to.</summary>
    public static float[] EmbedColor(float r, float g, float b)
    {
        var v = new float[Palette.Count];
        for (int i = 0; i < v.Length; i++)
        {
            var p = Palette[i];
            float d2 = (r - p.R) * (r - p.R) + (g - p.G) * (g - p.G) + (b - p.B) * (b - p.B);
            v[i] = MathF.Exp(-d2 / (2 * Sigma * Sigma));
        }
        return Vectors.Normalize(v);
    }

    /// <summary>Sum of the palette embeddings of the colour words in the text ("grey" = "gray"); text without colour words embeds to the uniform vector.</summary>
    public float[] EmbedText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sum = new float[Dimension];
        bool any = false;
        foreach (var raw in text.ToLowerInvariant().Split([' ', ',', '.', ';', ':', '-', '\t', '\n', '!', '?'], StringSplitOptions.RemoveEmptyEntries))
        {
            string word = raw == "grey" ? "gray" : raw;
            foreach (var p in Palette)
            {
                if (p.Name != word) continue;
                var e = EmbedColor(p.R, p.G, p.B);
                for (int i = 0; i < sum.Length; i++) sum[i] += e[i];
                any = true;
            }
        }
        if (!any) Array.Fill(sum, 1f);
        return Vectors.Normalize(sum);
    }

    public IReadOnlyList<EncodeResult> EmbedImages(IReadOnlyList<string> paths, CancellationToken ct = default)
    {
        var results = new EncodeResult[paths.Count];
        Parallel.For(0, paths.Count, new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            if (delayMs > 0) Thread.Sleep(delayMs);
            try
            {
                var image = ReadBmp(File.ReadAllBytes(paths[i]), paths[i]);
                results[i] = EncodeResult.Success(EmbedPixels(image), image.Width, image.Height);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                results[i] = EncodeResult.Failure(e.Message);
            }
        });
        ct.ThrowIfCancellationRequested();
        return results;
    }

    public float[] EmbedImage(Stream image) => EmbedPixels(ReadBmp(ReadAll(image), "uploaded image"));

    public ImageInfo Probe(Stream image)
    {
        var header = BmpHeader(ReadAll(image), "uploaded image");
        return new ImageInfo(header.Width, header.Height, "bmp");
    }

    public EncodedImage Thumbnail(string path, int maxSide)
    {
        if (maxSide < 1) throw new ArgumentOutOfRangeException(nameof(maxSide), maxSide, "thumbnail side must be positive");
        return new EncodedImage(BmpThumbnail.Encode(ReadBmp(File.ReadAllBytes(path), path), maxSide), "image/bmp");
    }

    /// <summary>The header of a BMP, or <see cref="InvalidDataException"/> naming <paramref name="name"/> for anything else.</summary>
    static ImageHeader BmpHeader(byte[] data, string name)
    {
        try
        {
            var header = ImageDecoder.ReadHeader(data, name);
            return header.Format == ImageFormat.Bmp ? header
                : throw new InvalidDataException($"{name}: a {header.Format} image; the toy encoder reads only BMP");
        }
        catch (ImageDecodeException e) { throw new InvalidDataException($"{e.Message} (the toy encoder reads only BMP)", e); }
    }

    /// <summary>A BMP's pixels as RGB (what Pillow's <c>convert("RGB")</c> gives), decoded by Vision's BMP reader.</summary>
    static RgbImage ReadBmp(byte[] data, string name)
    {
        BmpHeader(data, name);
        try { return ImageDecoder.Decode(data, name).ToRgb(); }
        catch (ImageDecodeException e) { throw new InvalidDataException($"{e.Message} (the toy encoder reads only BMP)", e); }
    }

    static float[] EmbedPixels(RgbImage image)
    {
        var rgb = image.Pixels;
        long r = 0, g = 0, b = 0;
        for (int i = 0; i < rgb.Length; i += 3) { r += rgb[i]; g += rgb[i + 1]; b += rgb[i + 2]; }
        double n = 255.0 * image.Width * image.Height;
        return EmbedColor((float)(r / n), (float)(g / n), (float)(b / n));
    }

    static byte[] ReadAll(Stream s)
    {
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }

    public void Dispose() { }
}
