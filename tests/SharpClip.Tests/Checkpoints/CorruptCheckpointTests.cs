using System.Text.Json.Nodes;
using SharpClip.Checkpoints;
using SharpClip.Tests.Infrastructure;
using static SharpClip.Tests.Checkpoints.CheckpointTestData;

namespace SharpClip.Tests.Checkpoints;

/// <summary>Temp copies of every fixture model, damaged one way each: the loader must fail naming the file and the
/// key, and leave no tensor behind.</summary>
public class CorruptCheckpointTests
{
    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    static string Weights(string id) => Fixtures.PathOf(Fixtures.Entry("models", id).GetProperty("weights").GetString()!);

    static void AssertRejected(string path, params string[] mentions)
    {
        long live = LiveTensors;
        var e = Assert.Throws<InvalidDataException>(() => CheckpointLoader.Read(path).Dispose());
        Assert.Contains(path, e.Message);
        foreach (var m in mentions) Assert.Contains(m, e.Message);
        Assert.Equal(live, LiveTensors);
    }

    static string IntegerTypeOfSameSize(string dtype) => dtype switch { "F32" => "I32", "F16" or "BF16" => "I16", "F64" => "I64", _ => throw new ArgumentException(dtype) };

    [Theory, MemberData(nameof(Models))]
    public void TruncatedFile(string id)
    {
        using var tmp = new TempDir();
        var path = tmp.File("cut.safetensors");
        var bytes = File.ReadAllBytes(Weights(id));
        File.WriteAllBytes(path, bytes[..^1000]);
        // The tensor whose bytes run past the end is named.
        var header = JsonNode.Parse(bytes.AsSpan(8, (int)BitConverter.ToInt64(bytes, 0)))!.AsObject();
        var last = header.Where(kv => kv.Key != "__metadata__").MaxBy(kv => kv.Value!["data_offsets"]![1]!.GetValue<long>()).Key;
        AssertRejected(path, $"'{last}'");
    }

    [Theory, MemberData(nameof(Models))]
    public void HeaderLyingAboutOffsets(string id)
    {
        using var tmp = new TempDir();
        var path = tmp.File("lying.safetensors");
        var size = new FileInfo(Weights(id)).Length;
        RewriteHeader(Weights(id), path, h =>
        {
            var o = h["ln_final.bias"]!["data_offsets"]!.AsArray();
            long n = o[1]!.GetValue<long>() - o[0]!.GetValue<long>();
            h["ln_final.bias"]!["data_offsets"] = new JsonArray(size, size + n);
        });
        AssertRejected(path, "'ln_final.bias'");
    }

    [Theory, MemberData(nameof(Models))]
    public void MissingKey(string id)
    {
        using var tmp = new TempDir();
        var path = tmp.File("missing.safetensors");
        RewriteHeader(Weights(id), path, h => h.Remove("ln_final.bias"));
        AssertRejected(path, "missing key 'ln_final.bias'");
    }

    [Theory, MemberData(nameof(Models))]
    public void UnexpectedKey(string id)
    {
        using var tmp = new TempDir();
        var path = tmp.File("extra.safetensors");
        RewriteHeader(Weights(id), path, h => h["visual.extra_head.weight"] = h["ln_final.bias"]!.DeepClone());
        AssertRejected(path, "unexpected key 'visual.extra_head.weight'");
    }

    [Theory, MemberData(nameof(Models))]
    public void WrongDType(string id)
    {
        using var tmp = new TempDir();
        var path = tmp.File("dtype.safetensors");
        string? integer = null;
        RewriteHeader(Weights(id), path, h =>
        {
            integer = IntegerTypeOfSameSize(h["ln_final.weight"]!["dtype"]!.GetValue<string>());
            h["ln_final.weight"]!["dtype"] = integer;
        });
        AssertRejected(path, "'ln_final.weight'", "dtype");
    }

    [Theory, MemberData(nameof(Models))]
    public void WrongShape(string id)
    {
        using var tmp = new TempDir();
        var path = tmp.File("shape.safetensors");
        RewriteHeader(Weights(id), path, h =>
        {
            var shape = h["ln_final.bias"]!["shape"]!.AsArray();
            h["ln_final.bias"]!["shape"] = new JsonArray(1, shape[0]!.GetValue<long>()); // same bytes, [W] -> [1, W]
        });
        AssertRejected(path, "'ln_final.bias'", "shape");
    }
}
