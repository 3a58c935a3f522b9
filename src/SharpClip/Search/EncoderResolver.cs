using SharpClip.Search.Toy;

namespace SharpClip.Search;

/// <summary>
/// Turns a <c>--model</c> string into an encoder. Providers are tried in registration order and the first that
/// recognises the string wins; the built-in toy (<see cref="ToyColorEncoder.ModelName"/>) is always present. The real
/// CLIP encoder plugs in with one <see cref="Register"/> call (or a line in <see cref="DefaultProviders"/>), so the
/// CLI, the index and the web app never change when models do.
/// </summary>
public static class EncoderResolver
{
    /// <summary>Given a model string, returns an encoder, or null when the string is not for this provider.</summary>
    public delegate IImageTextEncoder? Provider(string model);

    static readonly object Gate = new();
    static readonly List<Provider> Providers = [.. DefaultProviders()];

    static IEnumerable<Provider> DefaultProviders()
    {
        yield return m => m == ToyColorEncoder.ModelName ? new ToyColorEncoder() : null;
        // Any checkpoint on disk: a model folder or a weight file (ClipPipeline reads every supported format).
        yield return m => File.Exists(m) || Directory.Exists(m) ? ClipImageTextEncoder.Open(m) : null;
    }

    /// <summary>Adds a provider that is tried before the existing ones.</summary>
    public static void Register(Provider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        lock (Gate) Providers.Insert(0, provider);
    }

    /// <summary>
    /// Opens the encoder an index needs: <paramref name="model"/> if given (it must have the index's fingerprint),
    /// otherwise the model string the index recorded when it was built.
    /// </summary>
    public static IImageTextEncoder OpenFor(ImageIndex index, string? model)
    {
        var meta = index.Metadata;
        string name = model ?? meta?.Model ?? throw new InvalidOperationException($"index '{index.Path}' records no model yet; name one");
        var encoder = Open(name);
        if (meta is not null && meta.Fingerprint != encoder.Fingerprint)
        {
            string fingerprint = encoder.Fingerprint;
            encoder.Dispose();
            throw new ModelMismatchException(index.Path, meta.Model, meta.Fingerprint, name, fingerprint);
        }
        return encoder;
    }

    /// <summary>Opens the encoder for <paramref name="model"/>; throws <see cref="NotSupportedException"/> naming the model when nothing can open it.</summary>
    public static IImageTextEncoder Open(string model)
    {
        if (string.IsNullOrWhiteSpace(model)) throw new ArgumentException("model is empty: give a CLIP checkpoint or 'builtin:test-colors'", nameof(model));
        Provider[] snapshot;
        lock (Gate) snapshot = [.. Providers];
        foreach (var p in snapshot)
            if (p(model) is { } encoder) return encoder;
        throw new NotSupportedException(
            $"cannot open model '{model}': no registered encoder recognises it (available here: '{ToyColorEncoder.ModelName}', a toy colour encoder for tests and demos)");
    }
}
