namespace SharpClip.Files;

/// <summary>A file a walk found: its path (as walked, links not resolved) and the size and time of what it names.</summary>
public sealed record FoundFile(string Path, long Size, long ModifiedTicksUtc);

/// <summary>An entry a walk left out, and why ("a FIFO (named pipe)", "a directory link, not followed", ...).</summary>
public sealed record SkippedEntry(string Path, string Reason);

/// <summary>The outcome of a walk: files in ordinal path order, and what was skipped.</summary>
public sealed record FileTreeWalk(IReadOnlyList<FoundFile> Files, IReadOnlyList<SkippedEntry> Skipped);

/// <summary>
/// Walks folders the way Python's <c>os.walk</c> does by default, so a hostile or careless tree cannot hang or flood
/// a run: directory symbolic links are not descended into (a <c>ln -s . loop</c> would repeat the tree forever), a
/// directory reached twice (bind mounts) is walked once (device + inode), and only regular files are returned — a
/// symbolic link to a file counts as that file, sized and dated by its target (so a changed target is seen), while
/// FIFOs, sockets, devices and dangling links are skipped and named, never opened (opening a FIFO blocks).
/// </summary>
public static class FileTree
{
    /// <summary>Walks <paramref name="root"/> (which may itself be a link to a folder).</summary>
    /// <param name="root">The folder to walk.</param>
    /// <param name="include">Which file names to keep (for example by extension); others are ignored silently.</param>
    /// <param name="recursive">Descend into sub-folders (real ones; links to folders are reported, not followed).</param>
    /// <param name="ct">Stops the walk between entries.</param>
    public static FileTreeWalk Walk(string root, Func<string, bool> include, bool recursive = true, CancellationToken ct = default)
    {
        root = System.IO.Path.GetFullPath(root);
        var rootStatus = FileStatus.Of(root);
        if (rootStatus.Kind != FileKind.Directory)
            throw new DirectoryNotFoundException(rootStatus.Kind == FileKind.Missing ? $"folder '{root}' does not exist" : $"'{root}' is {rootStatus.Describe()}, not a folder");

        var files = new List<FoundFile>();
        var skipped = new List<SkippedEntry>();
        var visited = new HashSet<(ulong, ulong)>();
        var pending = new Stack<(string Path, FileStatus Status)>();
        pending.Push((root, rootStatus));
        while (pending.Count > 0)
        {
            ct.ThrowIfCancellationRequested();
            var (dir, status) = pending.Pop();
            if (status.Inode != 0 && !visited.Add((status.Device, status.Inode)))
            {
                skipped.Add(new SkippedEntry(dir, "a folder already walked (reached twice)"));
                continue;
            }
            IEnumerable<string> entries;
            try { entries = Directory.EnumerateFileSystemEntries(dir).Order(StringComparer.Ordinal).ToList(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                skipped.Add(new SkippedEntry(dir, $"cannot list it ({e.Message})"));
                continue;
            }
            foreach (var entry in entries)
            {
                var own = FileStatus.OfLink(entry);
                if (own.Kind == FileKind.Directory)
                {
                    if (recursive) pending.Push((entry, own));
                    continue;
                }
                bool isLink = own.Kind == FileKind.SymbolicLink;
                var target = isLink ? FileStatus.Of(entry) : own;
                if (target.Kind == FileKind.Directory)
                {
                    if (recursive) skipped.Add(new SkippedEntry(entry, "a link to a folder, not followed"));
                    continue;
                }
                if (!include(entry)) continue;
                if (target.Kind == FileKind.Regular) files.Add(new FoundFile(entry, target.Size, target.ModifiedTicksUtc));
                else skipped.Add(new SkippedEntry(entry, target.Kind == FileKind.Missing ? "a dangling link" : $"{target.Describe()}, not a regular file"));
            }
        }
        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        skipped.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return new FileTreeWalk(files, skipped);
    }

    /// <summary>
    /// Checks that <paramref name="path"/> names a regular file (following links) before anything opens it, so a FIFO
    /// or device given by mistake is one clear error instead of a read that never returns.
    /// </summary>
    /// <returns>The status of the file the path names (its real size and time).</returns>
    public static FileStatus RequireRegularFile(string path)
    {
        var status = FileStatus.Of(path);
        return status.Kind switch
        {
            FileKind.Regular => status,
            FileKind.Missing => throw new FileNotFoundException($"{path}: no such file{(FileStatus.OfLink(path).Kind == FileKind.SymbolicLink ? " (a dangling link)" : "")}", path),
            _ => throw new IOException($"{path}: is {status.Describe()}, not a regular file"),
        };
    }
}
