using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace SharpClip.Data.Sources;

/// <summary>How to read WebDataset-style tar shards.</summary>
public sealed record TarShardSourceOptions
{
    /// <summary>Member extensions that hold the encoded image (lower case, no dot); the first present wins.</summary>
    public IReadOnlyList<string> ImageExtensions { get; init; } = ["jpg", "jpeg", "png", "webp"];

    /// <summary>Member extensions that hold caption text, one caption per non-blank line.</summary>
    public IReadOnlyList<string> TextExtensions { get; init; } = ["txt", "text", "caption"];

    /// <summary>Caption fields tried in a .json member (a string or array value); a .json is used when no text member exists.</summary>
    public IReadOnlyList<string> CaptionFields { get; init; } = CaptionText.DefaultCaptionNames;
}

/// <summary>
/// WebDataset tar shards (the format LAION and open_clip train from): members <c>key.jpg</c>, <c>key.txt</c>,
/// <c>key.json</c>… grouped by key, where the key is the member path up to the first dot of its file name and
/// members of one sample are consecutive. Shards are read as streams with System.Formats.Tar, plain or gzip
/// (detected from the first bytes, so .tar.gz/.tgz need no special naming), without extracting anything.
/// A key without an image or without a caption is skipped and counted; a truncated or corrupt shard throws,
/// naming the shard and the last member read.
/// </summary>
public sealed class TarShardSource : IImageTextSource
{
    private readonly TarShardSourceOptions _options;

    /// <param name="pattern">A shard path, a brace/glob pattern like <c>data/shard-{000..009}.tar</c>, or several joined by "::".</param>
    /// <param name="options">Member extensions and caption fields; null for the WebDataset defaults.</param>
    public TarShardSource(string pattern, TarShardSourceOptions? options = null)
        : this(PathPattern.ExpandFiles(pattern), options, pattern) { }

    public TarShardSource(IReadOnlyList<string> shardPaths, TarShardSourceOptions? options = null, string? description = null)
    {
        _options = options ?? new TarShardSourceOptions();
        Files = shardPaths.Select(p => Path.GetFullPath(p)).ToList();
        foreach (var f in Files)
            if (!File.Exists(f)) throw new FileNotFoundException($"tar shard not found: '{f}'", f);
        Name = Files.Count == 1 ? Files[0] : $"{Files.Count} tar shards ({description ?? Path.GetDirectoryName(Files[0])})";
        Shards = Files.Select(f => (IImageTextShard)new DelegateShard(f, (stats, ct) => ReadShard(f, stats, ct))).ToList();
    }

    public IReadOnlyList<string> Files { get; }
    public string Name { get; }
    public IReadOnlyList<IImageTextShard> Shards { get; }
    public long? CountHint => null;

    /// <summary>Splits a member path into (key, extension) the WebDataset way; null for names without an extension.</summary>
    public static (string Key, string Extension)? SplitMemberName(string name)
    {
        name = name.Replace('\\', '/');
        while (name.StartsWith("./", StringComparison.Ordinal)) name = name[2..];
        int slash = name.LastIndexOf('/');
        int dot = name.IndexOf('.', slash + 1);
        if (dot <= slash + 1 || dot == name.Length - 1) return null;   // no extension, or a hidden file like "._x"
        return (name[..dot], name[(dot + 1)..].ToLowerInvariant());
    }

    private IEnumerable<ImageTextSample> ReadShard(string file, DataStats stats, CancellationToken ct)
    {
        using var fileStream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Stream stream = IsGzip(fileStream) ? new GZipStream(fileStream, CompressionMode.Decompress) : fileStream;
        using var tar = new TarReader(stream, leaveOpen: false);
        string? lastMember = null;
        string? currentKey = null;
        var members = new Dictionary<string, (byte[] Data, string Name)>();

        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var member = NextMember(tar, file, ref lastMember);
            var split = member is null ? null : SplitMemberName(member.Value.Name);
            if (member is not null && split is null) continue;
            if (member is null || split!.Value.Key != currentKey)
            {
                if (currentKey is not null && Assemble(file, currentKey, members, stats) is { } sample) yield return sample;
                if (member is null) yield break;
                currentKey = split!.Value.Key;
                members.Clear();
            }
            members[split!.Value.Extension] = (member.Value.Data, member.Value.Name);
        }
    }

    /// <summary>The next regular file member with its bytes copied out (the stream moves on), or null at the end.</summary>
    private static (string Name, byte[] Data)? NextMember(TarReader tar, string file, ref string? lastMember)
    {
        try
        {
            while (tar.GetNextEntry(copyData: false) is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile)) continue;
                lastMember = entry.Name;
                if (entry.Length > Array.MaxLength)
                    throw new DataFormatException(file, null, entry.Name, $"member claims {entry.Length} bytes; corrupt header?");
                var data = new byte[entry.Length];
                if (entry.DataStream is { } ds) ds.ReadExactly(data);
                return (entry.Name, data);
            }
            return null;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or IOException)
        {
            throw new DataFormatException(file, null, lastMember,
                $"corrupt or truncated tar shard ({(lastMember is null ? "before the first member" : "in or after this member")}): {e.Message}", e);
        }
    }

    private ImageTextSample? Assemble(string file, string key, Dictionary<string, (byte[] Data, string Name)> members, DataStats stats)
    {
        var where = $"{Path.GetFileName(file)}:{key}";
        List<string>? captions = null;
        foreach (var ext in _options.TextExtensions)
            if (members.TryGetValue(ext, out var t)) { captions = CaptionText.FromLines(Encoding.UTF8.GetString(t.Data)); break; }
        if (captions is null && members.TryGetValue("json", out var j))
        {
            JsonDocument doc;
            try { doc = JsonDocument.Parse(j.Data); }
            catch (JsonException e) { throw new DataFormatException(file, null, j.Name, $"member is not valid JSON: {e.Message}", e); }
            using (doc)
            {
                // A metadata .json without any caption field is not an error: the sample just has no caption.
                var root = doc.RootElement;
                bool hasCaption = root.ValueKind != JsonValueKind.Object || _options.CaptionFields.Any(f => root.TryGetProperty(f, out _));
                if (hasCaption) captions = CaptionText.FromJson(root, _options.CaptionFields, $"{file}:{j.Name}", null);
            }
        }
        (byte[] Data, string Name) image = default;
        string? format = null;
        foreach (var ext in _options.ImageExtensions)
            if (members.TryGetValue(ext, out image)) { format = ext; break; }

        if (format is null) { stats.Skip(SkipReason.IncompleteSample, $"{where} (no image member among {string.Join(", ", members.Keys)})"); return null; }
        if (captions is null) { stats.Skip(SkipReason.MissingCaption, $"{where} (no caption member among {string.Join(", ", members.Keys)})"); return null; }
        if (captions.Count == 0) { stats.Skip(SkipReason.EmptyCaption, where); return null; }
        return new ImageTextSample(key, new EncodedImage(image.Data, format, $"{Path.GetFileName(file)}:{image.Name}"), captions);
    }

    private static bool IsGzip(FileStream s)
    {
        Span<byte> magic = stackalloc byte[2];
        int n = s.Read(magic);
        s.Position = 0;
        return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }
}
