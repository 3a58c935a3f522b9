using SharpClip.Demos.Toy;
using SharpClip.Search;
using SharpClip.Vision;

namespace SharpClip.Web.Tests;

/// <summary>
/// The toy colour encoder (same fingerprint, same embeddings for BMPs), extended to every format Vision decodes the
/// way the real encoder reads them: pixels converted as Pillow's <c>convert("RGB")</c> does, mean colour embedded,
/// thumbnails as PNG. The toy reads only BMP; the web tests need a 16-bit grey PNG in the index.
/// </summary>
public sealed class AnyFormatToyEncoder : IImageTextEncoder
{
    readonly ToyColorEncoder toy = new(0);

    public string Fingerprint => toy.Fingerprint;
    public int Dimension => toy.Dimension;
    public float[] EmbedText(string text) => toy.EmbedText(text);
    public float[] EmbedImage(Stream image) => toy.EmbedImage(image);
    public ImageInfo Probe(Stream image) => toy.Probe(image);

    static bool IsBmp(string path) => path.EndsWith(".bmp", StringComparison.OrdinalIgnoreCase);

    public IReadOnlyList<EncodeResult> EmbedImages(IReadOnlyList<string> paths, CancellationToken ct = default) =>
        [.. paths.Select(p => IsBmp(p) ? toy.EmbedImages([p], ct)[0] : EmbedDecoded(p))];

    static EncodeResult EmbedDecoded(string path)
    {
        try
        {
            var rgb = ImageDecoder.Decode(path).ToRgb();
            long r = 0, g = 0, b = 0;
            for (int i = 0; i < rgb.Pixels.Length; i += 3) { r += rgb.Pixels[i]; g += rgb.Pixels[i + 1]; b += rgb.Pixels[i + 2]; }
            double n = 255.0 * rgb.Width * rgb.Height;
            return EncodeResult.Success(ToyColorEncoder.EmbedColor((float)(r / n), (float)(g / n), (float)(b / n)), rgb.Width, rgb.Height);
        }
        catch (Exception e) when (e is IOException or NotSupportedException) // ImageDecodeException is an IOException
        {
            return EncodeResult.Failure(e.Message);
        }
    }

    public EncodedImage Thumbnail(string path, int maxSide)
    {
        if (IsBmp(path)) return toy.Thumbnail(path, maxSide);
        var image = ImageDecoder.Decode(path);
        double scale = Math.Min(1.0, (double)maxSide / Math.Max(image.Width, image.Height));
        var small = image.Resize(Math.Max(1, (int)Math.Round(image.Width * scale)), Math.Max(1, (int)Math.Round(image.Height * scale)));
        return new EncodedImage(PngWriter.Encode(small.ToRgb()), "image/png");
    }

    public void Dispose() => toy.Dispose();
}
