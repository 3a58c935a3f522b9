using System.Formats.Tar;
using System.IO.Compression;
using SharpClip.Data;

namespace SharpClip.Demos.Fetching;

/// <summary>
/// Reads an npm package tarball (.tgz) in one streaming pass. npm puts every file under <c>package/</c>; paths are
/// returned without that prefix. Only the wanted files are copied into memory, so a 25 MB package costs what is used.
/// </summary>
public static class NpmTarball
{
    /// <summary>The regular files whose package-relative path satisfies <paramref name="want"/>, by that path.</summary>
    public static Dictionary<string, byte[]> Read(string tgzPath, Func<string, bool> want, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(tgzPath)) throw new FileNotFoundException($"{tgzPath}: package tarball not found", tgzPath);
        using var file = File.OpenRead(tgzPath);
        try { return Read(file, tgzPath, want, cancellationToken); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{tgzPath}: not a readable .tgz ({e.Message}); delete it to fetch it again", e); }
    }

    /// <summary>As <see cref="Read(string,Func{string,bool},CancellationToken)"/> over a gzip stream; <paramref name="name"/> names it in errors.</summary>
    public static Dictionary<string, byte[]> Read(Stream gzip, string name, Func<string, bool> want, CancellationToken cancellationToken = default)
    {
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var unzip = new GZipStream(gzip, CompressionMode.Decompress, leaveOpen: true);
        using var tar = new TarReader(unzip);
        while (tar.GetNextEntry() is { } entry)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
            var path = entry.Name.Replace('\\', '/');
            int slash = path.IndexOf('/');
            if (slash >= 0) path = path[(slash + 1)..]; // "package/emoji.json" → "emoji.json"
            if (!want(path) || entry.DataStream is null) continue;
            using var ms = new MemoryStream((int)Math.Max(0, entry.Length));
            entry.DataStream.CopyTo(ms);
            result[path] = ms.ToArray();
        }
        return result;
    }
}
