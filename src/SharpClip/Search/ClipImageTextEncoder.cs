using SharpClip.Pipelines;
using SharpClip.Vision;

namespace SharpClip.Search;

/// <summary>
/// The search layer's encoder backed by a real CLIP model (<see cref="ClipPipeline"/>). Model calls are serialised
/// with a lock: the web app calls from many request threads, and libtorch already uses every core for one batch.
/// </summary>
public sealed class ClipImageTextEncoder : IImageTextEncoder
{
    readonly ClipPipeline _pipeline;
    readonly object _gate = new();

    public ClipImageTextEncoder(ClipPipeline pipeline) => _pipeline = pipeline;

    /// <summary>Opens any checkpoint <see cref="ClipPipeline.Load"/> reads.</summary>
    public static ClipImageTextEncoder Open(string model, ClipPipelineOptions? options = null) => new(ClipPipeline.Load(model, options));

    public string Fingerprint => _pipeline.Fingerprint;

    public int Dimension => _pipeline.EmbeddingDimension;

    public float[] EmbedText(string text)
    {
        lock (_gate) return _pipeline.EmbedText(text);
    }

    public IReadOnlyList<EncodeResult> EmbedImages(IReadOnlyList<string> paths, CancellationToken ct = default)
    {
        IReadOnlyList<EmbeddingResult> embedded;
        lock (_gate) embedded = _pipeline.EmbedImages(paths, normalize: true, progress: null, cancellationToken: ct);
        return embedded.Select(r =>
        {
            if (!r.Succeeded) return EncodeResult.Failure(r.Error ?? "unreadable");
            var header = ImageDecoder.ReadHeader(r.Source);
            return EncodeResult.Success(r.Vector!, header.Width, header.Height);
        }).ToList();
    }

    public float[] EmbedImage(Stream image)
    {
        var bytes = ReadAll(image);
        try
        {
            lock (_gate) return _pipeline.EmbedImage(bytes, "uploaded image");
        }
        catch (ImageDecodeException e) { throw new InvalidDataException(e.Message, e); }
    }

    public ImageInfo Probe(Stream image)
    {
        var bytes = ReadAll(image);
        try
        {
            var h = ImageDecoder.ReadHeader(bytes, "uploaded image");
            return new ImageInfo(h.Width, h.Height, h.Format.ToString().ToLowerInvariant());
        }
        catch (ImageDecodeException e) { throw new InvalidDataException(e.Message, e); }
    }

    public EncodedImage Thumbnail(string path, int maxSide)
    {
        var image = ImageDecoder.Decode(path);
        double scale = Math.Min(1.0, (double)maxSide / Math.Max(image.Width, image.Height));
        var rgb = (scale < 1.0
            ? image.Resize(Math.Max(1, (int)Math.Round(image.Width * scale)), Math.Max(1, (int)Math.Round(image.Height * scale)))
            : image).ToRgb();
        return new EncodedImage(PngWriter.Encode(rgb), "image/png");
    }

    static byte[] ReadAll(Stream s)
    {
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }

    public void Dispose() => _pipeline.Dispose();
}
