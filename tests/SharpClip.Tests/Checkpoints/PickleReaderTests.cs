using System.Numerics;
using System.Text.Json.Nodes;
using SharpClip.Checkpoints;
using SharpClip.Tests.Infrastructure;
using static SharpClip.Tests.Checkpoints.CheckpointTestData;

namespace SharpClip.Tests.Checkpoints;

public class PickleReaderTests
{
    static object? Load(byte[] data, string source = "test.pkl") =>
        PickleReader.Load(data, source, new TorchPickleHost(source, allowTorchScriptClasses: false));

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void PlainDataMatchesPythonInEveryProtocol(int protocol)
    {
        var path = PathOf($"plain_data.p{protocol}.pkl");
        var actual = ToJson(Load(File.ReadAllBytes(path), path));
        var expected = JsonNode.Parse(File.ReadAllText(PathOf("plain_data.expected.json")));
        Assert.True(JsonNode.DeepEquals(expected, actual), $"protocol {protocol}:\n{actual?.ToJsonString()}\nexpected\n{expected?.ToJsonString()}");
    }

    [Fact]
    public void AProtocolZeroPickleAskingForOsSystemIsRefusedByName()
    {
        using var tmp = new TempDir();
        var path = tmp.File("evil.pt");
        File.WriteAllText(path, "cos\nsystem\n(S'touch sharpclip_pwned_marker'\ntR.");
        var e = Assert.Throws<UnsafePickleException>(() => CheckpointLoader.Read(path).Dispose());
        Assert.Contains(path, e.Message);
        Assert.Contains("os.system", e.Message);
        Assert.False(File.Exists(Path.Combine(Environment.CurrentDirectory, "sharpclip_pwned_marker")), "the payload ran");
    }

    [Theory]
    [InlineData((byte)'X')] // BINUNICODE
    [InlineData((byte)'B')] // BINBYTES
    [InlineData((byte)'T')] // BINSTRING
    public void AFourGigabyteLengthIsReadUnsignedAndRefusedAsPastTheEnd(byte opcode)
    {
        // PROTO 3, the opcode, length 0xFFFFFFFF (Python reads '<I': 4 GB, not -1), a few bytes, STOP.
        byte[] data = [0x80, 3, opcode, 0xFF, 0xFF, 0xFF, 0xFF, (byte)'a', (byte)'b', (byte)'.'];
        var e = Assert.Throws<InvalidDataException>(() => Load(data));
        Assert.Contains("4294967295 bytes runs past the end", e.Message);
        Assert.DoesNotContain("negative", e.Message);
    }

    // The same conventions as make_pt_fixtures.py's to_json.
    static JsonNode? ToJson(object? v) => v switch
    {
        null => null,
        bool b => JsonValue.Create(b),
        long l => Math.Abs((double)l) < 9007199254740992.0 ? JsonValue.Create(l) : JsonValue.Create(l.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        BigInteger bi => JsonValue.Create(bi.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        double d => JsonValue.Create(d),
        string s => JsonValue.Create(s),
        byte[] bytes => new JsonArray(bytes.Select(x => (JsonNode?)JsonValue.Create((long)x)).ToArray()),
        PickleDict d => new JsonObject(d.Items.Select(kv => KeyValuePair.Create(KeyString(kv.Key), ToJson(kv.Value)))),
        PickleSet s => new JsonArray(s.Items.OrderBy(x => Convert.ToDouble(x, System.Globalization.CultureInfo.InvariantCulture)).Select(ToJson).ToArray()),
        IEnumerable<object?> items => new JsonArray(items.Select(ToJson).ToArray()),
        _ => throw new InvalidOperationException($"unexpected value {v.GetType()}"),
    };

    static string KeyString(object? k) => k switch
    {
        string s => s,
        long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new InvalidOperationException($"unexpected key {k}"),
    };

    [Theory]
    [InlineData("malicious_os_system.pt", "posix.system")]
    [InlineData("malicious_os_system.legacy.pt", "posix.system")]
    [InlineData("malicious_eval_protocol4.pkl", "builtins.eval")]
    public void MaliciousPicklesAreRefusedWithoutRunningAnything(string file, string global)
    {
        var path = PathOf(file);
        AssertRefusedWithoutRunning(path, global, () => CheckpointLoader.Read(path).Dispose());
    }

    [Fact]
    public void GlobalsAreRefusedWhenNamedNotWhenCalled()
    {
        // PROTO 2, GLOBAL 'subprocess Popen', STOP: refused although nothing calls it.
        var data = new byte[] { 0x80, 2 }.Concat("csubprocess\nPopen\n."u8.ToArray()).ToArray();
        var e = Assert.Throws<UnsafePickleException>(() => Load(data));
        Assert.Equal("subprocess.Popen", e.Global);
        // TorchScript classes are data only inside a TorchScript archive.
        var ts = new byte[] { 0x80, 2 }.Concat("c__torch__\nM\n."u8.ToArray()).ToArray();
        Assert.Throws<UnsafePickleException>(() => Load(ts));
    }

    [Fact]
    public void ExtensionRegistryCodesAreRefused()
    {
        var e = Assert.Throws<UnsafePickleException>(() => Load([0x80, 2, 0x82, 1, (byte)'.']));
        Assert.Contains("extension", e.Message);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void TruncatedPickleFailsClearly(double keep)
    {
        var data = File.ReadAllBytes(PathOf("plain_data.p2.pkl"));
        var e = Assert.Throws<InvalidDataException>(() => Load(data[..(int)(data.Length * keep)], "cut.pkl"));
        Assert.Contains("cut.pkl", e.Message);
    }

    [Fact]
    public void GarbageIsNotAPickle()
    {
        var e = Assert.Throws<InvalidDataException>(() => Load([0xff, 0xfe, 0x00], "garbage.bin"));
        Assert.Contains("garbage.bin", e.Message);
        Assert.Contains("opcode", e.Message);
    }

    [Fact]
    public void MemoReadBeforeWriteFails()
    {
        var e = Assert.Throws<InvalidDataException>(() => Load([0x80, 2, (byte)'h', 5, (byte)'.']));
        Assert.Contains("memo", e.Message);
    }
}
