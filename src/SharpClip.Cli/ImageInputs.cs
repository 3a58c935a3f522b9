namespace SharpClip.Cli;

/// <summary>Expands image arguments: files as given, folders walked recursively (sorted, image extensions only).</summary>
public static class ImageInputs
{
    public static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp" };

    public static List<string> Expand(IEnumerable<string> arguments)
    {
        var files = new List<string>();
        foreach (var arg in arguments)
        {
            if (Directory.Exists(arg))
                files.AddRange(Directory.EnumerateFiles(arg, "*", SearchOption.AllDirectories)
                    .Where(f => Extensions.Contains(Path.GetExtension(f)))
                    .OrderBy(f => f, StringComparer.Ordinal));
            else if (File.Exists(arg)) files.Add(arg);
            else throw new FileNotFoundException($"{arg}: no such file or folder", arg);
        }
        return files;
    }
}
