using Microsoft.Extensions.Caching.Memory;
using SharpClip.Search;

namespace SharpClip.Web;

/// <summary>
/// Thumbnails made through the encoder (so any format the model reads can be previewed) and kept in a size-bounded
/// memory cache keyed by image id AND content hash, so a re-indexed file never shows a stale preview.
/// </summary>
public sealed class ThumbnailCache(IImageTextEncoder encoder, int side, long capacityBytes) : IDisposable
{
    readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = capacityBytes });

    public int Generated { get; private set; }

    public EncodedImage Get(ImageRecord image)
    {
        string key = $"{image.Id}:{image.Hash}";
        if (cache.TryGetValue(key, out EncodedImage? hit) && hit is not null) return hit;
        var thumb = encoder.Thumbnail(image.Path, side);
        Generated++;
        cache.Set(key, thumb, new MemoryCacheEntryOptions { Size = thumb.Bytes.Length + 64 });
        return thumb;
    }

    public void Dispose() => cache.Dispose();
}
