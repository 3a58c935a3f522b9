using System.Text.Json;
using System.Text.Json.Serialization;
using SharpClip.Data.Sources;

namespace SharpClip.Data;

/// <summary>Per-format settings for <see cref="ImageTextSources.Open"/>; null members mean the format's defaults.</summary>
public sealed record DataSourceOptions
{
    public CsvSourceOptions? Csv { get; init; }
    public JsonlSourceOptions? Jsonl { get; init; }
    public FolderSourceOptions? Folder { get; init; }
    public TarShardSourceOptions? Tar { get; init; }

    /// <summary>
    /// Settings of registered spec schemes (<see cref="ImageTextSources.Register"/>), by scheme: a training config's
    /// <c>"data_options": { "synthetic": { ... } }</c>. They stay JSON here because the core does not know the types
    /// of data sets that plug into it; each scheme reads its own with <see cref="SettingsFor{T}"/>.
    /// </summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? SchemeSettings { get; init; }

    /// <summary>How scheme settings are named and checked: snake_case fields, unknown fields refused, as in training configs.</summary>
    public static JsonSerializerOptions SettingsJson { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The settings given for <paramref name="scheme"/>, or null when there are none.</summary>
    /// <exception cref="ArgumentException">The settings do not fit <typeparamref name="T"/> (e.g. an unknown field).</exception>
    public T? SettingsFor<T>(string scheme) where T : class
    {
        var entry = SchemeSettings?.FirstOrDefault(kv => string.Equals(kv.Key, scheme, StringComparison.OrdinalIgnoreCase));
        if (entry?.Key is null) return null;
        try { return entry.Value.Value.Deserialize<T>(SettingsJson); }
        catch (JsonException e) { throw new ArgumentException($"data options '{scheme}': {e.Message}", e); }
    }

    /// <summary>A copy with <paramref name="settings"/> as the settings of <paramref name="scheme"/> (the code form of a config's entry).</summary>
    public DataSourceOptions WithSettings<T>(string scheme, T settings) where T : class
    {
        var all = new Dictionary<string, JsonElement>(SchemeSettings ?? [], StringComparer.OrdinalIgnoreCase)
        {
            [scheme] = JsonSerializer.SerializeToElement(settings, SettingsJson),
        };
        return this with { SchemeSettings = all };
    }
}
