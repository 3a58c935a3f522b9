namespace SharpClip.Web;

/// <summary>
/// Settings of the web app. The defaults are the safe ones: loopback only, bounded uploads (bytes AND pixels,
/// because a small compressed file can decode to gigabytes), bounded result counts. It serves search when given an
/// index, generation when given <see cref="Generation"/>, or both.
/// </summary>
public sealed record SearchWebOptions
{
    /// <summary>The index to search; null = no search page.</summary>
    public string? IndexPath { get; init; }
    /// <summary>The generate page's model and limits; null = no generate page.</summary>
    public GenerateWebOptions? Generation { get; init; }
    /// <summary>Model to embed queries with; null = the model recorded in the index.</summary>
    public string? Model { get; init; }
    /// <summary>Address to bind: an IP address or "localhost". Anything but loopback exposes the index to the network.</summary>
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>TCP port; 0 picks a free one (see <see cref="SearchWebApp.Addresses"/>).</summary>
    public int Port { get; init; } = 8080;
    public long MaxUploadBytes { get; init; } = 20 * 1024 * 1024;
    public long MaxUploadPixels { get; init; } = 50_000_000;
    /// <summary>
    /// Uploaded images decoded at once (default: the core count). Decoding is full-resolution — CLIP's preprocessing is
    /// Pillow's bicubic resize from the whole image, so shrink-on-load would change the embedding — which makes each
    /// decode cost memory and a core in proportion to its pixels: this bounds the total.
    /// </summary>
    public int MaxConcurrentDecodes { get; init; } = Environment.ProcessorCount;
    /// <summary>How long an upload waits for a decode slot before it is answered 503 with Retry-After.</summary>
    public TimeSpan DecodeQueueTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public int DefaultResults { get; init; } = 24;
    public int MaxResults { get; init; } = 200;
    /// <summary>Deepest page start a search may ask for (each page ranks offset + k images, so this bounds that work).</summary>
    public int MaxOffset { get; init; } = 100_000;
    public int MaxQueryChars { get; init; } = 1000;
    public int ThumbnailSide { get; init; } = 256;
    /// <summary>Memory the thumbnail cache may use.</summary>
    public long ThumbnailCacheBytes { get; init; } = 64L * 1024 * 1024;
}
