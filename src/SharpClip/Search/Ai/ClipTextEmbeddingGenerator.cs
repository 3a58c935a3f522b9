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
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var text in values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            result.Add(EmbeddingGenerators.Wrap(encoder.EmbedText(text), metadata.DefaultModelId));
        }
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
/// bytes (<c>image/*</c> media type; e.g. <c>new DataContent(File.ReadAllBytes(p), "image/jpeg")</c>) into the same space as the texts.
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
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var content in values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!content.HasTopLevelMediaType("image"))
                throw new NotSupportedException($"content of media type '{content.MediaType}' is not an image");
            using var bytes = new MemoryStream(content.Data.ToArray(), writable: false);
            result.Add(EmbeddingGenerators.Wrap(encoder.EmbedImage(bytes), metadata.DefaultModelId));
        }
        return Task.FromResult(result);
    }

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
