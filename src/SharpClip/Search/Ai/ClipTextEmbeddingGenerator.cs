using Microsoft.Extensions.AI;

namespace SharpClip.Search;

/// <summary>
/// Exposes an encoder's text side as a <c>Microsoft.Extensions.AI</c> embedding generator, so SharpClip plugs into
/// .NET AI pipelines and vector stores that speak <see cref="IEmbeddingGenerator{TInput,TEmbedding}"/>. Embeddings are
/// unit-length, so a store's cosine or dot-product distance gives the same ranking as SharpClip's own search.
/// </summary>
public sealed class ClipTextEmbeddingGenerator(IImageTextEncoder encoder, string? modelId = null, bool ownsEncoder = false)
    : IEmbeddingGenerator<string, Embedding<float>>
{
    readonly EmbeddingGeneratorMetadata metadata = new("sharpclip", null, modelId ?? encoder.Fingerprint, encoder.Dimension);

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        EmbeddingGenerators.CheckOptions(options, encoder);
        var texts = values.ToList();
        cancellationToken.ThrowIfCancellationRequested();
        // One call for all of them: a batching encoder (a CLIP model) makes one forward pass per batch, not per text.
        var vectors = encoder.EmbedTexts(texts, cancellationToken);
        var result = new GeneratedEmbeddings<Embedding<float>>(vectors.Count);
        foreach (var v in vectors) result.Add(EmbeddingGenerators.Wrap(v, metadata.DefaultModelId));
        return Task.FromResult(result);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => EmbeddingGenerators.GetService(this, encoder, metadata, serviceType, serviceKey);

    public void Dispose()
    {
        if (ownsEncoder) encoder.Dispose();
    }
}

/// <summary>
/// The image counterpart of <see cref="ClipTextEmbeddingGenerator"/>: embeds <see cref="DataContent"/> holding image
/// bytes (<c>image/*</c> media type; e.g. <c>new DataContent(File.ReadAllBytes(p), "image/jpeg") { Name = p }</c>) into
/// the same space as the texts. M.E.AI has no image-embedding input type of its own; <see cref="DataContent"/> is what
/// its chat abstractions use for images, so callers already hold them. Inputs are decoded in parallel and embedded in
/// batches; an undecodable input fails the call with an <see cref="InvalidDataException"/> naming it (its
/// <see cref="DataContent.Name"/>, else its position), as a generator owes one embedding per input.
/// </summary>
public sealed class ClipImageEmbeddingGenerator(IImageTextEncoder encoder, string? modelId = null, bool ownsEncoder = false)
    : IEmbeddingGenerator<DataContent, Embedding<float>>
{
    readonly EmbeddingGeneratorMetadata metadata = new("sharpclip", null, modelId ?? encoder.Fingerprint, encoder.Dimension);

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<DataContent> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        EmbeddingGenerators.CheckOptions(options, encoder);
        var images = new List<(byte[] Data, string Name)>();
        foreach (var content in values)
        {
            ArgumentNullException.ThrowIfNull(content);
            if (!content.HasTopLevelMediaType("image"))
                throw new NotSupportedException($"{Describe(content, images.Count)}: content of media type '{content.MediaType}' is not an image");
            images.Add((content.Data.ToArray(), Describe(content, images.Count)));
        }
        cancellationToken.ThrowIfCancellationRequested();
        // Decoded in parallel and embedded in one forward pass per batch by a batching encoder (a CLIP model).
        var encoded = encoder.EmbedEncodedImages(images, cancellationToken);
        var result = new GeneratedEmbeddings<Embedding<float>>(encoded.Count);
        for (int i = 0; i < encoded.Count; i++)
        {
            // An embedding generator returns one embedding per input or fails: the message names the input that could not be read.
            if (!encoded[i].Ok) throw new InvalidDataException(Prefixed(images[i].Name, encoded[i].Error));
            result.Add(EmbeddingGenerators.Wrap(encoded[i].Embedding!, metadata.DefaultModelId));
        }
        return Task.FromResult(result);
    }

    /// <summary>The content's <see cref="DataContent.Name"/>, or its place in the input ("image 3") when it has none.</summary>
    static string Describe(DataContent content, int index) => content.Name is { Length: > 0 } name ? name : $"image {index}";

    static string Prefixed(string name, string? error) =>
        error is null ? $"{name}: unreadable" : error.Contains(name, StringComparison.Ordinal) ? error : $"{name}: {error}";

    public object? GetService(Type serviceType, object? serviceKey = null) => EmbeddingGenerators.GetService(this, encoder, metadata, serviceType, serviceKey);

    public void Dispose()
    {
        if (ownsEncoder) encoder.Dispose();
    }
}

static class EmbeddingGenerators
{
    public static Embedding<float> Wrap(float[] v, string? modelId) => new(v) { ModelId = modelId, CreatedAt = DateTimeOffset.UtcNow };

    public static void CheckOptions(EmbeddingGenerationOptions? options, IImageTextEncoder encoder)
    {
        if (options?.Dimensions is { } d && d != encoder.Dimension)
            throw new NotSupportedException($"this encoder makes {encoder.Dimension}-d embeddings; {d} dimensions were requested");
    }

    public static object? GetService(object self, IImageTextEncoder encoder, EmbeddingGeneratorMetadata metadata, Type serviceType, object? serviceKey)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata)) return metadata;
        if (serviceType.IsInstanceOfType(self)) return self;
        if (serviceType.IsInstanceOfType(encoder)) return encoder;
        return null;
    }
}
