namespace SharpClip.Tests;

/// <summary>A fresh folder under the system temp directory for one test, deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("sharpclip-test-").FullName;

    /// <summary>The path of <paramref name="relative"/> inside the folder (nothing is created).</summary>
    public string File(string relative) => Combine(relative);

    /// <summary>Writes a text file (sub-folders created) and returns its path.</summary>
    public string File(string relative, string content) => Write(relative, f => System.IO.File.WriteAllText(f, content));

    /// <summary>Writes a binary file (sub-folders created) and returns its path.</summary>
    public string File(string relative, byte[] content) => Write(relative, f => System.IO.File.WriteAllBytes(f, content));

    /// <summary>Same as <see cref="File(string, byte[])"/>.</summary>
    public string Write(string relative, byte[] content) => File(relative, content);

    /// <summary>A placeholder image file (for readers that only check it exists; it does not decode).</summary>
    public string Image(string relative) => File(relative, [0xFF, 0xD8, 0xFF, 0xD9]);

    public string Combine(string relative) => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }

    string Write(string relative, Action<string> write)
    {
        var p = Combine(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(p)!);
        write(p);
        return p;
    }
}
