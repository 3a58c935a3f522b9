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
    readonly object _gate;
    readonly bool _ownsPipeline;

    /// <summary>An encoder that owns <paramref name="pipeline"/> (disposing the encoder disposes the model).</summary>
    public ClipImageTextEncoder(ClipPipeline pipeline) : this(pipeline, new object(), ownsPipeline: true) { }

    /// <summary>
    /// An encoder over a pipeline someone else owns and also calls, serialising model calls on their
    /// <paramref name="gate"/> so the two never run the model at once.
    /// </summary>
    public ClipImageTextEncoder(ClipPipeline pipeline, object gate, bool ownsPipeline)
    {
        _pipeline = pipeline;
        _gate = gate;
        _ownsPipeline = ownsPipeline;
    }

    /// <summary>Opens any checkpoint <see cref="ClipPipeline.Load"/> reads.</summary>
    public static ClipImageTextEncoder Open(string model, ClipPipelineOptions? options = null) => new(ClipPipeline.Load(model, options));

    public string Fingerprint => _pipeline.Fingerprint;

    public int Dimension => _pipeline.EmbeddingDimension;

    public float[] EmbedText(string text)
    {
        lock (_gate) return _pipeline.EmbedText(text);
    }

    /// <summary>All texts in forward passes of the pipeline's batch size (truncated to the context, as <see cref="EmbedText"/>).</summary>
    public IReadOnlyList<float[]> EmbedTexts(IReadOnlyList<string> texts, CancellationToken ct = default)
    {
        if (texts.Count == 0) return [];
        lock (_gate)
        {
            using var e = _pipeline.EmbedTexts(texts, normalize: true, truncate: true, cancellationToken: ct); // [texts, dim]
            var flat = e.data<float>().ToArray();
            int dim = Dimension;
            return Enumerable.Range(0, texts.Count).Select(i => flat.AsSpan(i * dim, dim).ToArray()).ToList();
        }
    }

    /// <summary>All images decoded in parallel and embedded in forward passes of the pipeline's batch size.</summary>
    public IReadOnlyList<EncodeResult> EmbedEncodedImages(IReadOnlyList<(byte[] Data, string Name)> images, CancellationToken ct = default)
    {
        IReadOnlyList<EmbeddingResult> embedded;
        lock (_gate) embedded = _pipeline.EmbedEncodedImages(images, normalize: true, cancellationToken: ct);
        return embedded.Select((r, i) =>
        {
            if (!r.Succeeded) return EncodeResult.Failure(r.Error ?? $"{r.Source}: unreadable");
            var header = ImageDecoder.ReadHeader(images[i].Data, images[i].Name);
            return EncodeResult.Success(r.Vector!, header.Width, header.Height);
        }).ToList();
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

    public void Dispose()
    {
        if (_ownsPipeline) _pipeline.Dispose();
    }
}
