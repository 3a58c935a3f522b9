namespace SharpClip.Data.Sources;

/// <summary>
/// A source whose files (one path or a <see cref="PathPattern"/>) are its shards, each read lazily by
/// <see cref="ReadFile"/>: the common shape of the CSV and JSONL readers.
/// </summary>
public abstract class FileShardSource : IImageTextSource
{
    protected FileShardSource(string pathOrPattern, string kind)
    {
        Files = PathPattern.ExpandFiles(pathOrPattern);
        Name = Files.Count == 1 ? Files[0] : $"{Files.Count} {kind} files ({pathOrPattern})";
        Shards = Files.Select(f => (IImageTextShard)new DelegateShard(f, (stats, ct) => ReadFile(f, stats, ct))).ToList();
    }

    public IReadOnlyList<string> Files { get; }
    public string Name { get; }
    public IReadOnlyList<IImageTextShard> Shards { get; }
    public long? CountHint => null;

    /// <summary>The samples of one file, in file order; skips are counted in <paramref name="stats"/>.</summary>
    protected abstract IEnumerable<ImageTextSample> ReadFile(string file, DataStats stats, CancellationToken ct);
}
