using SharpClip.Files;
using SharpClip.Vision;

namespace SharpClip.Search;

/// <summary>A file found by the scan, with the stamp (size + last-write ticks of what it names) used to skip unchanged files cheaply.</summary>
public sealed record ScannedFile(string Path, long Size, long MtimeTicks);

/// <summary>The image files of a scan, and the entries it left out (links to folders, FIFOs, dangling links...).</summary>
public sealed record FolderScan(IReadOnlyList<ScannedFile> Files, IReadOnlyList<SkippedEntry> Skipped);

/// <summary>
/// Walks folders recursively (<see cref="FileTree"/>: no descent into folder links, regular files only, a linked
/// file stamped by its target) and lists image files by extension, in a stable (ordinal) order.
/// </summary>
public static class FolderScanner
{
    /// <summary>Extensions treated as images (<see cref="ImageFormats.ReadableExtensions"/>); the encoder decides whether it can actually read each one.</summary>
    public static IReadOnlySet<string> DefaultExtensions => ImageFormats.ReadableExtensions;

    public static FolderScan Scan(IEnumerable<string> folders, IReadOnlySet<string>? extensions = null, CancellationToken ct = default)
    {
        extensions ??= DefaultExtensions;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var files = new List<ScannedFile>();
        var skipped = new List<SkippedEntry>();
        foreach (var folder in folders)
        {
            var walk = FileTree.Walk(folder, f => extensions.Contains(Path.GetExtension(f)), ct: ct);
            foreach (var f in walk.Files)
                if (seen.Add(f.Path)) files.Add(new ScannedFile(f.Path, f.Size, f.ModifiedTicksUtc));
            skipped.AddRange(walk.Skipped);
        }
        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return new FolderScan(files, skipped);
    }

    /// <summary>The caption sidecar of an image: same folder and name, extension <c>.txt</c> (<c>cat.jpg</c> → <c>cat.txt</c>).</summary>
    public static string SidecarPath(string imagePath) => Path.ChangeExtension(imagePath, ".txt");
}
