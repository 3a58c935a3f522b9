using System.Text.Json;
using SharpClip.Files;
using SharpClip.Vision;

namespace SharpClip.Data.Sources;

/// <summary>How to read a folder of images with caption sidecars.</summary>
public sealed record FolderSourceOptions
{
    /// <summary>Image file extensions (with dot, any case); by default the ones the decoder reads.</summary>
    public IReadOnlyList<string> ImageExtensions { get; init; } = [.. ImageFormats.ReadableExtensions];

    /// <summary>Descend into sub-folders (keys are then relative paths such as "cats/001").</summary>
    public bool Recursive { get; init; } = true;

    /// <summary>Caption fields tried in a sidecar .json object.</summary>
    public IReadOnlyList<string> CaptionFields { get; init; } = CaptionText.DefaultCaptionNames;

    /// <summary>Images per shard: the folder's sorted file list is cut into shards of this size for shard shuffling.</summary>
    public int ShardSize { get; init; } = 1000;
}

/// <summary>
/// A folder of images, each with a sidecar caption file of the same name: <c>cat.jpg</c> + <c>cat.txt</c> (one caption
/// per non-blank line) or <c>cat.json</c> (a string, an array of strings, or an object with a caption/captions field).
/// The .txt wins when both exist. An image without a sidecar is skipped and counted; an unreadable .json throws.
/// The file list is taken once, sorted ordinally (so the order is the same on every machine) and cut into shards.
/// </summary>
public sealed class FolderSource : IImageTextSource
{
    private readonly FolderSourceOptions _options;

    public FolderSource(string directory, FolderSourceOptions? options = null)
    {
        _options = options ?? new FolderSourceOptions();
        if (_options.ShardSize <= 0) throw new ArgumentOutOfRangeException(nameof(options), $"{nameof(FolderSourceOptions.ShardSize)} must be positive");
        Root = Path.GetFullPath(directory);
        if (!Directory.Exists(Root)) throw new DirectoryNotFoundException($"image folder not found: '{directory}'");
        var exts = new HashSet<string>(_options.ImageExtensions, StringComparer.OrdinalIgnoreCase);
        var walk = FileTree.Walk(Root, f => exts.Contains(Path.GetExtension(f)), _options.Recursive);
        Skipped = walk.Skipped;
        var images = walk.Files
            .Select(f => Path.GetRelativePath(Root, f.Path))
            .Order(StringComparer.Ordinal)
            .ToArray();
        CountHint = images.Length;
        Name = $"{Root} ({images.Length} images)";
        Shards = images.Chunk(_options.ShardSize)
            .Select((chunk, i) => (IImageTextShard)new DelegateShard($"{Root}#{i}", (stats, ct) => ReadChunk(chunk, stats, ct)))
            .ToList();
    }

    public string Root { get; }

    /// <summary>Entries of the folder left out by the walk (links to folders, FIFOs, dangling links), and why.</summary>
    public IReadOnlyList<SkippedEntry> Skipped { get; }
    public string Name { get; }
    public IReadOnlyList<IImageTextShard> Shards { get; }
    public long? CountHint { get; }

    private IEnumerable<ImageTextSample> ReadChunk(string[] relativePaths, DataStats stats, CancellationToken ct)
    {
        foreach (var rel in relativePaths)
        {
            ct.ThrowIfCancellationRequested();
            var full = Path.Combine(Root, rel);
            var stem = Path.Combine(Path.GetDirectoryName(full)!, Path.GetFileNameWithoutExtension(full));
            var key = Path.ChangeExtension(rel, null).Replace('\\', '/');
            List<string>? captions = null;
            if (File.Exists(stem + ".txt")) captions = CaptionText.FromLines(File.ReadAllText(stem + ".txt"));
            else if (File.Exists(stem + ".json")) captions = ReadJsonSidecar(stem + ".json");
            if (captions is null) { stats.Skip(SkipReason.MissingCaption, $"{full} (no .txt or .json sidecar)"); continue; }
            if (captions.Count == 0) { stats.Skip(SkipReason.EmptyCaption, $"{full}"); continue; }
            if (!File.Exists(full)) { stats.Skip(SkipReason.MissingImage, full); continue; }
            yield return new ImageTextSample(key, new ImageFile(full), captions);
        }
    }

    private List<string> ReadJsonSidecar(string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e)
        {
            throw new DataFormatException(path, e.LineNumber + 1, null, $"not valid JSON: {e.Message}", e);
        }
        using (doc) return CaptionText.FromJson(doc.RootElement, _options.CaptionFields, path, null);
    }
}
