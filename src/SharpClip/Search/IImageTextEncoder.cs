namespace SharpClip.Search;

/// <summary>
/// What the search stack needs from a CLIP-like model: one embedding space for texts and images. Search, the index
/// and the web app program against this interface only, so a real CLIP checkpoint, a toy encoder for tests, or a
/// remote model can be swapped without touching them. Implementations own native memory (model weights), hence
/// <see cref="IDisposable"/>. All members must be safe to call from several threads (the web app does).
/// </summary>
public interface IImageTextEncoder : IDisposable
{
    /// <summary>
    /// Identifies everything that changes an embedding: weights, config and preprocessing. The index stores it and
    /// refuses to mix embeddings from two fingerprints, because cosine scores across models are meaningless.
    /// </summary>
    string Fingerprint { get; }

    /// <summary>Length of every embedding this encoder returns.</summary>
    int Dimension { get; }

    /// <summary>Embeds one text; the result is L2-normalised, length <see cref="Dimension"/>.</summary>
    float[] EmbedText(string text);

    /// <summary>
    /// Embeds many texts, each result as <see cref="EmbedText"/> gives it. Encoders that batch (a real CLIP model: one
    /// forward pass per batch rather than per text) override this; the default embeds one at a time.
    /// </summary>
    IReadOnlyList<float[]> EmbedTexts(IReadOnlyList<string> texts, CancellationToken ct = default)
    {
        var result = new float[texts.Count][];
        for (int i = 0; i < texts.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            result[i] = EmbedText(texts[i]);
        }
        return result;
    }

    /// <summary>
    /// Embeds in-memory encoded images in input order; one that cannot be decoded yields a result with
    /// <see cref="EncodeResult.Error"/> naming it (<c>Name</c>). Encoders that batch override this; the default calls
    /// <see cref="EmbedImage"/> per image.
    /// </summary>
    IReadOnlyList<EncodeResult> EmbedEncodedImages(IReadOnlyList<(byte[] Data, string Name)> images, CancellationToken ct = default)
    {
        var result = new EncodeResult[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                var info = Probe(new MemoryStream(images[i].Data, writable: false));
                result[i] = EncodeResult.Success(EmbedImage(new MemoryStream(images[i].Data, writable: false)), info.Width, info.Height);
            }
            catch (InvalidDataException e) { result[i] = EncodeResult.Failure($"{images[i].Name}: {e.Message}"); }
        }
        return result;
    }

    /// <summary>
    /// Embeds image files in input order (implementations batch and decode in parallel). A file that cannot be read
    /// yields a result with <see cref="EncodeResult.Error"/> set instead of throwing, so one bad file never stops an
    /// indexing run. Honours <paramref name="ct"/> between batches.
    /// </summary>
    IReadOnlyList<EncodeResult> EmbedImages(IReadOnlyList<string> paths, CancellationToken ct = default);

    /// <summary>Embeds one encoded image (an uploaded query image); throws <see cref="InvalidDataException"/> if it cannot be decoded.</summary>
    float[] EmbedImage(Stream image);

    /// <summary>
    /// Reads only what is needed to know an encoded image's format and size, so a server can refuse oversized
    /// uploads (decompression bombs) before decoding them. Throws <see cref="InvalidDataException"/> for unknown data.
    /// </summary>
    ImageInfo Probe(Stream image);

    /// <summary>A small preview of an image file, at most <paramref name="maxSide"/> pixels on its longer side, encoded in a format browsers show.</summary>
    EncodedImage Thumbnail(string path, int maxSide);
}

/// <summary>One image's outcome: an L2-normalised embedding plus the decoded size, or the reason it could not be read.</summary>
public sealed record EncodeResult(float[]? Embedding, int Width, int Height, string? Error)
{
    public bool Ok => Embedding is not null;
    public static EncodeResult Success(float[] embedding, int width, int height) => new(embedding, width, height, null);
    public static EncodeResult Failure(string reason) => new(null, 0, 0, reason);
}

/// <summary>Header facts about an encoded image.</summary>
public sealed record ImageInfo(int Width, int Height, string Format);

/// <summary>Encoded image bytes plus their media type (e.g. <c>image/png</c>), ready to send over HTTP.</summary>
public sealed record EncodedImage(byte[] Bytes, string ContentType);
