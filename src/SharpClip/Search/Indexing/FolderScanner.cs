namespace SharpClip.Search;

/// <summary>A file found by the scan, with the stamp (size + last-write ticks) used to skip unchanged files cheaply.</summary>
public sealed record ScannedFile(string Path, long Size, long MtimeTicks);

/// <summary>Walks folders recursively and lists image files by extension, in a stable (ordinal) order.</summary>
public static class FolderScanner
{
    /// <summary>Extensions treated as images; the encoder decides whether it can actually read each one.</summary>
    public static readonly IReadOnlySet<string> DefaultExtensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff",
    };

    public static List<ScannedFile> Scan(IEnumerable<string> folders, IReadOnlySet<string>? extensions = null, CancellationToken ct = default)
    {
        extensions ??= DefaultExtensions;
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, ReturnSpecialDirectories = false };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var files = new List<ScannedFile>();
        foreach (var folder in folders)
        {
            string root = Path.GetFullPath(folder);
            if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"folder '{root}' does not exist");
            foreach (var info in new DirectoryInfo(root).EnumerateFiles("*", options))
            {
                ct.ThrowIfCancellationRequested();
                if (!extensions.Contains(info.Extension) || !seen.Add(info.FullName)) continue;
                files.Add(new ScannedFile(info.FullName, info.Length, info.LastWriteTimeUtc.Ticks));
            }
        }
        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return files;
    }

    /// <summary>The caption sidecar of an image: same folder and name, extension <c>.txt</c> (<c>cat.jpg</c> → <c>cat.txt</c>).</summary>
    public static string SidecarPath(string imagePath) => Path.ChangeExtension(imagePath, ".txt");
}
