namespace SharpClip.Search;

/// <summary>
/// One image of an <see cref="ImageIndex"/> as a Microsoft.Extensions.VectorData record (<see cref="ImageIndexCollection"/>):
/// the path is the key, as in the index, whose <c>path</c> column is unique. The schema is the index's, fixed, so the
/// record is a plain class rather than an attribute-mapped one.
/// </summary>
public sealed class IndexedImage
{
    /// <summary>The key: the image's path, stored as given (the <c>index</c> command stores absolute paths).</summary>
    public string Path { get; set; } = "";

    /// <summary>The image's caption (the indexer reads it from a sidecar <c>.txt</c>), or null.</summary>
    public string? Caption { get; set; }

    /// <summary>Pixel width (0 when unknown).</summary>
    public int Width { get; set; }

    /// <summary>Pixel height (0 when unknown).</summary>
    public int Height { get; set; }

    /// <summary>When the row was last written; set by the store, ignored on upsert.</summary>
    public DateTime UpdatedUtc { get; set; }

    /// <summary>
    /// The image's embedding in the index's model space. Upsert stores it L2-normalised (search scores are cosines);
    /// reads fill it only when the options ask for vectors, so it is empty otherwise.
    /// </summary>
    public ReadOnlyMemory<float> Embedding { get; set; }
}
