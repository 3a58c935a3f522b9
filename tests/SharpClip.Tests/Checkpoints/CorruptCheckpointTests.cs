using SharpClip.Files;
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

    // Rewrites the file without one tensor: its bytes cut out and later offsets shifted.
    static void RemoveTensor(string source, string destination, string name)
    {
        long begin = 0, end = 0;
        RewriteHeader(source, destination, h =>
        {
            var o = h[name]!["data_offsets"]!.AsArray();
            (begin, end) = (o[0]!.GetValue<long>(), o[1]!.GetValue<long>());
            h.Remove(name);
            foreach (var (k, v) in h)
            {
                if (k == "__metadata__") continue;
                var off = v!["data_offsets"]!.AsArray();
                long b = off[0]!.GetValue<long>(), e = off[1]!.GetValue<long>();
                if (b >= end) v["data_offsets"] = new JsonArray(b - (end - begin), e - (end - begin));
            }
        }, data => data[..(int)begin].Concat(data[(int)end..]).ToArray());
    }

    static string IntegerTypeOfSameSize(string dtype) => dtype switch { "F32" => "I32", "F16" or "BF16" => "I16", "F64" => "I64", _ => throw new ArgumentException(dtype) };

    [Theory, MemberData(nameof(Models))]
    public void NonFiniteWeightsAreNamedAtLoad(string id)
    {
        using var tmp = new TempDir();
        var path = tmp.File("nan.safetensors");
        const string name = "ln_final.weight";
        var entry = Header(Weights(id))[name]!;
        long begin = entry["data_offsets"]![0]!.GetValue<long>();
        var bytes = File.ReadAllBytes(Weights(id));
        long dataStart = 8 + BitConverter.ToInt64(bytes, 0);
        // One NaN, in the stored dtype.
        byte[] nan = entry["dtype"]!.GetValue<string>() == "F16" ? BitConverter.GetBytes((Half)float.NaN) : BitConverter.GetBytes(float.NaN);
        nan.CopyTo(bytes, dataStart + begin);
        File.WriteAllBytes(path, bytes);
        AssertRejected(path, $"'{name}'", "non-finite");

        var (exit, _, err) = SharpClip.Tests.Search.CliProcess.Run("classify", "--model", path, "--vocab", Fixtures.VocabPath, "--labels", "cat,dog",
            Fixtures.ImagePaths(Fixtures.Entry("models", id).GetProperty("eval"))[0]);
        Assert.NotEqual(0, exit);
        Assert.Contains("non-finite", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void FiniteWeightsThatOverflowAreNamedNotPrintedAsNaN()
    {
        // text_projection at 3e38 is finite, but its products overflow float32: every text embedding is inf/NaN.
        var id = Fixtures.Array("models").Select(m => m.GetProperty("id").GetString()!)
            .First(i => Header(Weights(i))["text_projection"]!["dtype"]!.GetValue<string>() == "F32");
        using var tmp = new TempDir();
        var path = tmp.File("overflow.safetensors");
        var entry = Header(Weights(id))["text_projection"]!;
        long begin = entry["data_offsets"]![0]!.GetValue<long>(), end = entry["data_offsets"]![1]!.GetValue<long>();
        var bytes = File.ReadAllBytes(Weights(id));
        long dataStart = 8 + BitConverter.ToInt64(bytes, 0);
        for (long o = begin; o < end; o += 4) BitConverter.GetBytes(3e38f).CopyTo(bytes, dataStart + o);
        File.WriteAllBytes(path, bytes);

        var (exit, stdout, err) = SharpClip.Tests.Search.CliProcess.Run("classify", "--model", path, "--vocab", Fixtures.VocabPath, "--labels", "cat,dog",
            Fixtures.ImagePaths(Fixtures.Entry("models", id).GetProperty("eval"))[0]);
        Assert.NotEqual(0, exit);
        Assert.Contains("NaN or infinity", err);
        Assert.Contains(path, err);
        Assert.DoesNotContain("NaN", stdout);
    }

    [Theory, MemberData(nameof(Models))]
    public void TruncatedFile(string id)
    {
        using var tmp = new TempDir();
        var path = tmp.File("cut.safetensors");
        // Cut into the last tensor's bytes: that tensor is named.
        var (last, offsets) = Header(Weights(id)).Where(kv => kv.Key != "__metadata__")
            .Select(kv => (kv.Key, kv.Value!["data_offsets"]!.AsArray()))
            .MaxBy(t => t.Item2[1]!.GetValue<long>());
        long lastBytes = offsets[1]!.GetValue<long>() - offsets[0]!.GetValue<long>();
        var bytes = File.ReadAllBytes(Weights(id));
        File.WriteAllBytes(path, bytes[..^(int)Math.Max(1, lastBytes / 2)]);
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
    public void HeaderWithOverlappingTensors(string id)
    {
        using var tmp = new TempDir();
        var path = tmp.File("overlap.safetensors");
        // ln_final.bias claims ln_final.weight's bytes (same size): two names for one range, and a hole where it was.
        RewriteHeader(Weights(id), path, h => h["ln_final.bias"]!["data_offsets"] = h["ln_final.weight"]!["data_offsets"]!.DeepClone());
        AssertRejected(path, "ln_final.");
    }

    [Theory, MemberData(nameof(Models))]
    public void MissingKey(string id)
    {
        using var tmp = new TempDir();
        var path = tmp.File("missing.safetensors");
        // Its bytes are removed too (a header entry without bytes would be caught as a gap, not as a missing key).
        RemoveTensor(Weights(id), path, "ln_final.bias");
        AssertRejected(path, "missing key 'ln_final.bias'");
    }

    [Theory, MemberData(nameof(Models))]
    public void UnexpectedKey(string id)
    {
        using var tmp = new TempDir();
        var path = tmp.File("extra.safetensors");
        // A copy of ln_final.bias appended under a name no CLIP has.
        long begin = 0, end = 0, dataLength = 0;
        RewriteHeader(Weights(id), path, h =>
        {
            var entry = h["ln_final.bias"]!.DeepClone();
            var o = entry["data_offsets"]!.AsArray();
            (begin, end) = (o[0]!.GetValue<long>(), o[1]!.GetValue<long>());
            dataLength = h.Where(kv => kv.Key != "__metadata__").Max(kv => kv.Value!["data_offsets"]![1]!.GetValue<long>());
            entry["data_offsets"] = new JsonArray(dataLength, dataLength + (end - begin));
            h["visual.extra_head.weight"] = entry;
        }, data => data.Concat(data[(int)begin..(int)end]).ToArray());
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

    [Fact]
    public void OverlapAndGapAreBothNamed()
    {
        using var tmp = new TempDir();
        var path = tmp.File("two.safetensors");
        SafeTensorsWriter.Write(path, new Dictionary<string, SafeTensorsWriter.Entry>
        {
            ["a"] = SafeTensorsWriter.FromFloats([1, 2], 2),
            ["b"] = SafeTensorsWriter.FromFloats([3, 4], 2),
        });
        var overlap = tmp.File("overlap.safetensors");
        RewriteHeader(path, overlap, h => h["b"]!["data_offsets"] = new JsonArray(4, 12), d => d[..12]);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(overlap).Dispose());
        Assert.Contains("'b'", e.Message);
        Assert.Contains("overlaps tensor 'a'", e.Message);
        var gap = tmp.File("gap.safetensors");
        RewriteHeader(path, gap, h => h["b"]!["data_offsets"] = new JsonArray(12, 20), d => d.Concat(new byte[4]).ToArray());
        e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(gap).Dispose());
        Assert.Contains("gap after tensor 'a'", e.Message);
        var trailing = tmp.File("trailing.safetensors");
        RewriteHeader(path, trailing, h => { }, d => d.Concat(new byte[8]).ToArray());
        e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(trailing).Dispose());
        Assert.Contains("8 bytes after the last tensor 'b'", e.Message);
    }
}

/// <summary>Sizes from a header whose product overflows 64 bits must be refused, not wrapped round to the stored size.</summary>
public class OverflowingShapeTests
{
    static string SafeTensors(TempDir dir, string header, int dataBytes)
    {
        var json = System.Text.Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BitConverter.GetBytes((long)json.Length).CopyTo(bytes, 0);
        json.CopyTo(bytes, 8);
        var path = dir.File("overflow.safetensors");
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData("[4611686018427387905,4]", 16)]          // (2^62+1)·4 elements wraps to 4; ·4 bytes = 16, the stored size
    [InlineData("[4611686018427387905,6324224]", 0)]     // the issue's shape: wraps to 0 bytes
    [InlineData("[9223372036854775807,9223372036854775807]", 4)]
    public void ShapeWhoseByteCountOverflowsIsOneClearError(string shape, int dataBytes)
    {
        using var tmp = new TempDir();
        var path = SafeTensors(tmp, $"{{\"w\":{{\"dtype\":\"F32\",\"shape\":{shape},\"data_offsets\":[0,{dataBytes}]}}}}", dataBytes);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Contains(path, e.Message);
        Assert.Contains("'w'", e.Message);
        e = Assert.Throws<InvalidDataException>(() => CheckpointLoader.Read(path).Dispose());
        Assert.Contains(path, e.Message);
    }
}
