using SharpClip.Data.Sources;

namespace SharpClip.Data;

/// <summary>Opens a dataset from the one string a user types (a CLI flag or a config value).</summary>
public static class ImageTextSources
{
    /// <summary>Opens a <c>scheme:...</c> spec registered with <see cref="Register"/>; <paramref name="options"/> carries its settings.</summary>
    public delegate IImageTextSource SchemeOpener(string spec, DataSourceOptions options);

    sealed record Scheme(string Name, SchemeOpener Open, string? Usage);

    static readonly object Gate = new();
    static readonly List<Scheme> Schemes = [];

    /// <summary>
    /// Teaches <see cref="Open"/> a spec form <c>scheme:...</c> (e.g. a generated or prepared data set that lives outside
    /// the core library), so every verb and config that takes a data spec accepts it without knowing its type. A later
    /// registration of the same scheme replaces the earlier one.
    /// </summary>
    /// <param name="scheme">The prefix before the first ':' (matched ignoring case).</param>
    /// <param name="open">Opens a spec of this scheme; throws naming the spec when it is malformed.</param>
    /// <param name="usage">How to write the spec (e.g. <c>synthetic:shapes</c>), listed when no format fits; null = not listed.</param>
    public static void Register(string scheme, SchemeOpener open, string? usage = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scheme);
        ArgumentNullException.ThrowIfNull(open);
        lock (Gate)
        {
            Schemes.RemoveAll(s => string.Equals(s.Name, scheme, StringComparison.OrdinalIgnoreCase));
            Schemes.Add(new Scheme(scheme, open, usage));
        }
    }

    /// <summary>Whether <paramref name="scheme"/> has been registered.</summary>
    public static bool IsRegistered(string scheme) => Find(scheme) is not null;

    static Scheme? Find(string scheme)
    {
        lock (Gate) return Schemes.FirstOrDefault(s => string.Equals(s.Name, scheme, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// By form: <c>scheme:...</c> for a registered scheme (<see cref="Register"/>) → what that scheme opens; an existing
    /// directory → a folder with sidecars; otherwise by extension (braces and wildcards allowed): .csv/.tsv/.tab → CSV,
    /// .jsonl/.ndjson → JSON Lines, .tar/.tar.gz/.tgz → WebDataset shards. Throws naming the spec when none fits.
    /// </summary>
    public static IImageTextSource Open(string spec, DataSourceOptions? options = null)
    {
        options ??= new DataSourceOptions();
        foreach (var name in options.SchemeSettings?.Keys ?? Enumerable.Empty<string>())
            if (Find(name) is null) throw new ArgumentException($"data options: unknown field '{name}' (no data set of that name is registered)");
        if (spec.IndexOf(':') is var colon and > 0 && Find(spec[..colon]) is { } scheme) return scheme.Open(spec, options);
        if (!PathPattern.IsPattern(spec) && Directory.Exists(spec)) return new FolderSource(spec, options.Folder);
        var lower = spec.ToLowerInvariant();
        if (lower.EndsWith(".csv") || lower.EndsWith(".tsv") || lower.EndsWith(".tab")) return new CsvSource(spec, options.Csv);
        if (lower.EndsWith(".jsonl") || lower.EndsWith(".ndjson")) return new JsonlSource(spec, options.Jsonl);
        if (lower.EndsWith(".tar") || lower.EndsWith(".tar.gz") || lower.EndsWith(".tgz")) return new TarShardSource(spec, options.Tar);
        if (!PathPattern.IsPattern(spec) && !File.Exists(spec)) throw new FileNotFoundException($"dataset not found: '{spec}'", spec);
        string[] usages;
        lock (Gate) usages = [.. Schemes.Select(s => s.Usage).OfType<string>()];
        throw new ArgumentException($"cannot tell the dataset format of '{spec}': expected a folder, .csv/.tsv, .jsonl, .tar/.tar.gz shards"
            + string.Concat(usages.Select(u => " or " + u)));
    }
}
