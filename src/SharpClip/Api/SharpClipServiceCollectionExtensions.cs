using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using SharpClip.Pipelines;

namespace SharpClip;

/// <summary>
/// Registers a CLIP model with Microsoft.Extensions.DependencyInjection, the way .NET apps wire AI services: the
/// <see cref="Clip"/> itself and its text and image sides as Microsoft.Extensions.AI embedding generators, so
/// code that asks for an <see cref="IEmbeddingGenerator{TInput,TEmbedding}"/> gets CLIP without knowing it.
/// The model loads on first use (not at registration) and is disposed with the container.
/// </summary>
public static class SharpClipServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="Clip"/>, <c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c> (texts) and
    /// <c>IEmbeddingGenerator&lt;DataContent, Embedding&lt;float&gt;&gt;</c> (images) as singletons sharing one model.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="modelPath">A model folder or weight file (anything <see cref="Clip.Load"/> reads).</param>
    /// <param name="options">Device, precision, batch size, vocabulary.</param>
    public static IServiceCollection AddSharpClip(this IServiceCollection services, string modelPath, ClipPipelineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        services.AddSingleton(_ => Clip.Load(modelPath, options));
        services.AddSingleton(sp => sp.GetRequiredService<Clip>().AsTextEmbeddingGenerator());
        services.AddSingleton(sp => sp.GetRequiredService<Clip>().AsImageEmbeddingGenerator());
        return services;
    }

    /// <summary>
    /// As <see cref="AddSharpClip"/>, under <paramref name="serviceKey"/>, so two models live side by side (a large one
    /// for indexing, a small one for a preview, say): resolve them with <c>GetRequiredKeyedService&lt;Clip&gt;(key)</c>
    /// or <c>[FromKeyedServices(key)]</c>.
    /// </summary>
    public static IServiceCollection AddKeyedSharpClip(this IServiceCollection services, object serviceKey, string modelPath, ClipPipelineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(serviceKey);
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        services.AddKeyedSingleton(serviceKey, (_, _) => Clip.Load(modelPath, options));
        services.AddKeyedSingleton(serviceKey, (sp, key) => sp.GetRequiredKeyedService<Clip>(key).AsTextEmbeddingGenerator());
        services.AddKeyedSingleton(serviceKey, (sp, key) => sp.GetRequiredKeyedService<Clip>(key).AsImageEmbeddingGenerator());
        return services;
    }
}
