namespace SharpClip.Search;

/// <summary>
/// Turns a <c>--model</c> string into an encoder. Providers are tried in registration order and the first that
/// recognises the string wins; any checkpoint on disk is always present. Other encoders (a remote model, the demos'
/// toy colour encoder) plug in with one <see cref="Register"/> call, so the CLI, the index and the web app never
/// change when models do.
/// </summary>
public static class EncoderResolver
{
    /// <summary>Given a model string, returns an encoder, or null when the string is not for this provider.</summary>
    public delegate IImageTextEncoder? Provider(string model);

    static readonly object Gate = new();
    static readonly List<Provider> Providers =
    [
        // Any checkpoint on disk: a model folder or a weight file (ClipPipeline reads every supported format).
        m => File.Exists(m) || Directory.Exists(m) ? ClipImageTextEncoder.Open(m) : null,
    ];

    /// <summary>Named models that registered providers offer, listed in errors so a user sees what else works.</summary>
    static readonly List<(string Model, string Description)> Offered = [];

    /// <summary>Adds a provider that is tried before the existing ones.</summary>
    /// <param name="provider">Opens the models it recognises.</param>
    /// <param name="model">A model string it always opens (e.g. <c>builtin:test-colors</c>), named in errors; null = none.</param>
    /// <param name="description">What that model is, shown beside it.</param>
    public static void Register(Provider provider, string? model = null, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(provider);
        lock (Gate)
        {
            Providers.Insert(0, provider);
            if (model is not null && !Offered.Any(o => o.Model == model)) Offered.Add((model, description ?? ""));
        }
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
        Provider[] snapshot;
        (string Model, string Description)[] offered;
        lock (Gate) (snapshot, offered) = ([.. Providers], [.. Offered]);
        if (string.IsNullOrWhiteSpace(model))
            throw new ArgumentException("model is empty: give a CLIP checkpoint" + string.Concat(offered.Select(o => $" or '{o.Model}'")), nameof(model));
        foreach (var p in snapshot)
            if (p(model) is { } encoder) return encoder;
        var available = offered.Length == 0 ? "" : $" (available here: {string.Join("; ", offered.Select(o => $"'{o.Model}', {o.Description}"))})";
        throw new NotSupportedException($"cannot open model '{model}': no registered encoder recognises it{available}");
    }
}
