namespace SharpClip.Data;

/// <summary>
/// An image-text dataset as an ordered list of shards. Shards are the unit of the loader's first shuffle level (the
/// order of shards changes per epoch, then a bounded buffer mixes samples), so a source never has to hold or index
/// the whole dataset: a tar shard, a CSV file or a chunk of a folder's file list is read front to back.
/// </summary>
public interface IImageTextSource
{
    /// <summary>What this is, for messages ("train.csv", "42 tar shards under /data/laion").</summary>
    string Name { get; }

    IReadOnlyList<IImageTextShard> Shards { get; }

    /// <summary>Number of samples before skips when known without reading (folders, synthetic sets); else null.</summary>
    long? CountHint { get; }
}

/// <summary>One independently readable part of a source.</summary>
public interface IImageTextShard
{
    string Name { get; }

    /// <summary>
    /// Streams the shard's samples in file order. Samples without a usable caption or image file are skipped and
    /// counted in <paramref name="stats"/>; structural errors throw <see cref="DataFormatException"/>.
    /// </summary>
    IEnumerable<ImageTextSample> Read(DataStats stats, CancellationToken cancellationToken = default);
}

/// <summary>Helpers over any source.</summary>
public static class ImageTextSourceExtensions
{
    /// <summary>All samples, shard after shard, in file order (no shuffling): for evaluation and exports.</summary>
    public static IEnumerable<ImageTextSample> ReadAll(this IImageTextSource source, DataStats? stats = null, CancellationToken cancellationToken = default)
    {
        stats ??= new DataStats();
        foreach (var shard in source.Shards)
            foreach (var s in shard.Read(stats, cancellationToken))
                yield return s;
    }
}

/// <summary>A shard defined by a name and a read function: how the built-in sources describe their parts.</summary>
public sealed class DelegateShard(string name, Func<DataStats, CancellationToken, IEnumerable<ImageTextSample>> read) : IImageTextShard
{
    public string Name { get; } = name;
    public IEnumerable<ImageTextSample> Read(DataStats stats, CancellationToken cancellationToken = default) => read(stats, cancellationToken);
    public override string ToString() => Name;
}
