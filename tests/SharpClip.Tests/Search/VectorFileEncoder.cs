using System.Collections.Concurrent;
using System.Globalization;
using SharpClip.Search;

namespace SharpClip.Tests.Search;

/// <summary>
/// Test double: an "image" file holds its own embedding as text ("0.2 1 0 0"), or "fail: reason" to be unreadable;
/// texts are parsed the same way. Results are therefore known to the test independently of any search code.
/// Records every path it embedded, so tests can prove what was (not) re-embedded.
/// </summary>
public sealed class VectorFileEncoder(int dimension = 4, string fingerprint = "vector-files-v1") : IImageTextEncoder
{
    public ConcurrentBag<string> Embedded { get; } = [];
    public Action<string>? BeforeEach { get; set; }

    public string Fingerprint => fingerprint;
    public int Dimension => dimension;

    public static float[] Parse(string text) =>
        text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => float.Parse(s, CultureInfo.InvariantCulture)).ToArray();

    public float[] EmbedText(string text) => Vectors.Normalize(Check(Parse(text)));

    public IReadOnlyList<EncodeResult> EmbedImages(IReadOnlyList<string> paths, CancellationToken ct = default)
    {
        var list = new List<EncodeResult>();
        foreach (var p in paths)
        {
            ct.ThrowIfCancellationRequested();
            BeforeEach?.Invoke(p);
            string text = File.ReadAllText(p);
            if (text.StartsWith("fail:", StringComparison.Ordinal)) { list.Add(EncodeResult.Failure(text[5..].Trim())); continue; }
            Embedded.Add(p);
            list.Add(EncodeResult.Success(Vectors.Normalize(Check(Parse(text))), 7, 5));
        }
        return list;
    }

    public float[] EmbedImage(Stream image) => Vectors.Normalize(Check(Parse(new StreamReader(image).ReadToEnd())));
    public ImageInfo Probe(Stream image) => new(7, 5, "vector");
    public EncodedImage Thumbnail(string path, int maxSide) => new(File.ReadAllBytes(path), "text/plain");

    float[] Check(float[] v) => v.Length == dimension ? v : throw new InvalidDataException($"expected {dimension} numbers, got {v.Length}");

    public void Dispose() { }
}

/// <summary>A temporary folder deleted with the test.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("sharpclip-search-").FullName;
    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    /// <summary>Writes a file (creating folders) and gives it a distinct, explicit mtime so "changed" is unambiguous.</summary>
    public string Write(string relative, string content, DateTime? mtime = null)
    {
        string p = this[relative];
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(p)!);
        File.WriteAllText(p, content);
        if (mtime is { } t) File.SetLastWriteTimeUtc(p, t);
        return p;
    }

    public string Write(string relative, byte[] content)
    {
        string p = this[relative];
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(p)!);
        File.WriteAllBytes(p, content);
        return p;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
