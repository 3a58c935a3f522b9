using SharpClip.Files;
using System.Text.Json.Nodes;
using SharpClip.Checkpoints;
using SharpClip.Tests.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Checkpoints;

/// <summary>The PyTorch-made files in Checkpoints/data (see make_pt_fixtures.py) and helpers to compare state dicts.</summary>
internal static class CheckpointTestData
{
    public static string Dir => Path.Combine(Fixtures.RepoRoot, "tests", "SharpClip.Tests", "Checkpoints", "data");

    public static string PathOf(string name) => Path.Combine(Dir, name);

    /// <summary>Every tensor of a safetensors file; the caller disposes them.</summary>
    public static Dictionary<string, Tensor> ReadSafeTensors(string path)
    {
        using var f = SafeTensorsFile.Open(path);
        return f.Names.ToDictionary(n => n, n => f.ReadTensor(n).DetachFromDisposeScope());
    }

    public static void DisposeAll(IEnumerable<Tensor> tensors)
    {
        foreach (var t in tensors) t.Dispose();
    }

    /// <summary>Same keys, and per key the same dtype, shape and bytes.</summary>
    public static void AssertBitIdentical(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, e) in expected)
        {
            var a = actual[key];
            Assert.True(e.dtype == a.dtype, $"'{key}': dtype {a.dtype}, expected {e.dtype}");
            Assert.True(e.shape.SequenceEqual(a.shape), $"'{key}': shape [{string.Join(",", a.shape)}], expected [{string.Join(",", e.shape)}]");
            using var ec = e.contiguous();
            using var ac = a.contiguous();
            Assert.True(ec.bytes.SequenceEqual(ac.bytes), $"'{key}': values differ");
        }
    }

    /// <summary>Rewrites a safetensors file's JSON header into <paramref name="destination"/>; the data section is kept,
    /// or replaced by <paramref name="data"/>(old data section).</summary>
    public static void RewriteHeader(string source, string destination, Action<JsonObject> edit, Func<byte[], byte[]>? data = null)
    {
        var bytes = File.ReadAllBytes(source);
        long n = BitConverter.ToInt64(bytes, 0);
        var header = JsonNode.Parse(bytes.AsSpan(8, (int)n))!.AsObject();
        edit(header);
        var json = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        using var fs = File.Create(destination);
        fs.Write(BitConverter.GetBytes((long)padded));
        fs.Write(json);
        for (int i = json.Length; i < padded; i++) fs.WriteByte((byte)' ');
        var section = bytes.AsSpan(8 + (int)n).ToArray();
        fs.Write(data is null ? section : data(section));
    }

    public static JsonObject Header(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return JsonNode.Parse(bytes.AsSpan(8, (int)BitConverter.ToInt64(bytes, 0)))!.AsObject();
    }

    public static long LiveTensors => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    /// <summary>
    /// <paramref name="load"/> of the hostile pickle <paramref name="path"/> is refused by naming
    /// <paramref name="global"/> (in the exception and its message, with the file), its payload never ran, and no
    /// tensor outlives the refusal.
    /// </summary>
    public static void AssertRefusedWithoutRunning(string path, string global, Action load)
    {
        var marker = System.IO.Path.Combine(Environment.CurrentDirectory, "sharpclip_pwned_marker");
        long live = LiveTensors;
        var e = Xunit.Assert.Throws<UnsafePickleException>(load);
        Xunit.Assert.Equal(global, e.Global);
        Xunit.Assert.Contains(path, e.Message);
        Xunit.Assert.Contains(global, e.Message);
        Xunit.Assert.False(System.IO.File.Exists(marker), "the payload ran");
        Xunit.Assert.Equal(live, LiveTensors);
    }
}

/// <summary>A temporary folder deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sharpclip-ckpt-" + Guid.NewGuid().ToString("N")[..10]);

    public TempDir() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
