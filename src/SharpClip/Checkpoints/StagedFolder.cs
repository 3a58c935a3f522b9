namespace SharpClip.Checkpoints;

/// <summary>
/// Writes a model folder beside its destination and moves it into place, so a failure (or a crash) never leaves a
/// half-written model where a reader would find it.
/// </summary>
internal static class StagedFolder
{
    /// <param name="dir">Destination folder.</param>
    /// <param name="overwrite">Replace the files of an existing non-empty folder.</param>
    /// <param name="lastFile">File moved last when replacing in place (the one readers look at first, config.json).</param>
    /// <param name="fill">Writes the files into the staging folder it is given.</param>
    public static void Write(string dir, bool overwrite, string lastFile, Action<string> fill)
    {
        var full = Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar);
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any() && !overwrite)
            throw new IOException($"{full}: folder exists and is not empty (pass overwrite to replace the model in it)");
        var parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(staging);
        try
        {
            fill(staging);
            if (!Directory.Exists(full)) Directory.Move(staging, full);
            else
            {
                // Replace file by file, the config last: until it lands the folder still describes the old model
                // (whose weights check then fails loudly), never a new config over old weights.
                foreach (var f in Directory.EnumerateFiles(staging).OrderBy(f => Path.GetFileName(f) == lastFile))
                    File.Move(f, Path.Combine(full, Path.GetFileName(f)), overwrite: true);
                Directory.Delete(staging, recursive: true);
            }
        }
        catch
        {
            try { if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true); } catch (IOException) { }
            throw;
        }
    }
}
