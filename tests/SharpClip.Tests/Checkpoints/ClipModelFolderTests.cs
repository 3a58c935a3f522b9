using System.Text.Json;
using System.Text.Json.Nodes;
using SharpClip.Checkpoints;
using SharpClip.Tests.Infrastructure;
using static SharpClip.Tests.Checkpoints.CheckpointTestData;
using SharpClip.Vision;

namespace SharpClip.Tests.Checkpoints;

public class ClipModelFolderTests
{
    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    [Theory, Trait("Category", "Fidelity")]
    [MemberData(nameof(Models))]
    public void InferredArchitectureMatchesTheReference(string id)
    {
        var model = Fixtures.Entry("models", id);
        var expected = model.GetProperty("config");
        using var ckpt = CheckpointLoader.Read(Fixtures.PathOf(model.GetProperty("weights").GetString()!));
        var c = ckpt.ResolvedConfig;
        Assert.Null(ckpt.Config);
        Assert.Equal("safetensors", ckpt.SourceFormat);
        Assert.Equal(expected.GetProperty("embed_dim").GetInt32(), c.EmbedDim);
        Assert.Equal(expected.GetProperty("image_resolution").GetInt32(), c.ImageResolution);
        var layers = expected.GetProperty("vision_layers");
        Assert.Equal(layers.ValueKind == JsonValueKind.Array ? layers.EnumerateArray().Select(l => l.GetInt32()).ToArray() : [layers.GetInt32()], c.VisionLayers);
        Assert.Equal(expected.GetProperty("vision_width").GetInt32(), c.VisionWidth);
        var patch = expected.GetProperty("vision_patch_size");
        Assert.Equal(patch.ValueKind == JsonValueKind.Null ? null : patch.GetInt32(), c.VisionPatchSize);
        Assert.Equal(expected.GetProperty("vision_heads").GetInt32(), c.VisionHeads);
        Assert.Equal(expected.GetProperty("context_length").GetInt32(), c.ContextLength);
        Assert.Equal(expected.GetProperty("vocab_size").GetInt32(), c.VocabSize);
        Assert.Equal(expected.GetProperty("transformer_width").GetInt32(), c.TextWidth);
        Assert.Equal(expected.GetProperty("transformer_heads").GetInt32(), c.TextHeads);
        Assert.Equal(expected.GetProperty("transformer_layers").GetInt32(), c.TextLayers);
        Assert.Equal(model.GetProperty("param_count").GetInt64(), ckpt.ParameterCount);
    }

    [Theory, Trait("Category", "Fidelity")]
    [MemberData(nameof(Models))]
    public void FolderRoundTripsBitExact(string id)
    {
        var weights = Fixtures.PathOf(Fixtures.Entry("models", id).GetProperty("weights").GetString()!);
        using var source = CheckpointLoader.Read(weights);
        using var tmp = new TempDir();
        var dir = Path.Combine(tmp.Path, "model");
        var pre = PreprocessingInfo.ForResolution(source.ResolvedConfig.ImageResolution);
        ClipModelFolder.Write(dir, source.ResolvedConfig, source.StateDict, Fixtures.VocabPath, pre);

        Assert.True(ClipModelFolder.IsModelFolder(dir));
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(tmp.Path), p => Path.GetFileName(p).StartsWith('.')); // no staging left
        using var back = CheckpointLoader.Read(dir);
        Assert.Equal("sharpclip", back.SourceFormat);
        Assert.Equal(JsonSerializer.Serialize(source.ResolvedConfig), JsonSerializer.Serialize(back.Config));
        Assert.Equal(pre, back.Preprocessing);
        Assert.Equal(Path.Combine(dir, Path.GetFileName(Fixtures.VocabPath)), back.VocabPath);
        Assert.Equal(File.ReadAllBytes(Fixtures.VocabPath), File.ReadAllBytes(back.VocabPath!));
        Assert.Null(back.MergesPath);
        var original = ReadSafeTensors(weights);
        try { AssertBitIdentical(original, back.StateDict); }
        finally { DisposeAll(original.Values); }
    }

    static string WriteSmallFolder(TempDir tmp)
    {
        // The tiny HF model, re-written as a SharpClip folder: fast to write and read.
        using var hf = CheckpointLoader.Read(PathOf("hf_tiny"));
        var dir = Path.Combine(tmp.Path, "m");
        ClipModelFolder.Write(dir, hf.Config!, hf.StateDict, hf.VocabPath, hf.Preprocessing!, hf.MergesPath);
        return dir;
    }

    [Fact]
    public void ExistingFolderIsReplacedOnlyWhenAsked()
    {
        using var tmp = new TempDir();
        var dir = WriteSmallFolder(tmp);
        using var hf = CheckpointLoader.Read(PathOf("hf_tiny"));
        Assert.Throws<IOException>(() => ClipModelFolder.Write(dir, hf.Config!, hf.StateDict, null, hf.Preprocessing!));
        ClipModelFolder.Write(dir, hf.Config!, hf.StateDict, null, hf.Preprocessing!, overwrite: true);
        using var back = CheckpointLoader.Read(dir);
        Assert.Null(back.VocabPath);
        AssertBitIdentical(hf.StateDict, back.StateDict);
    }

    [Fact]
    public void WritingAnInconsistentModelFailsBeforeAnyFileExists()
    {
        using var tmp = new TempDir();
        using var hf = CheckpointLoader.Read(PathOf("hf_tiny"));
        var dir = Path.Combine(tmp.Path, "bad");
        var wrong = hf.Config! with { TextLayers = 2 };
        var e = Assert.Throws<InvalidDataException>(() => ClipModelFolder.Write(dir, wrong, hf.StateDict, null, hf.Preprocessing!));
        Assert.Contains("declares 2 text transformer layers, the weights hold 1", e.Message);
        Assert.False(Directory.Exists(dir));
    }

    [Theory]
    [InlineData("architecture.vision_patch_size")]
    [InlineData("architecture.text_heads")]
    public void ConfigWithAMissingFieldIsRefused(string field)
    {
        using var tmp = new TempDir();
        var dir = WriteSmallFolder(tmp);
        EditConfig(dir, c => c["architecture"]!.AsObject().Remove(field.Split('.')[1]));
        var e = Assert.Throws<InvalidDataException>(() => CheckpointLoader.Read(dir).Dispose());
        Assert.Contains(Path.Combine(dir, "config.json"), e.Message);
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void NewerFormatVersionIsRefused()
    {
        using var tmp = new TempDir();
        var dir = WriteSmallFolder(tmp);
        EditConfig(dir, c => c["sharpclip_format_version"] = ClipModelFolder.FormatVersion + 1);
        var e = Assert.Throws<InvalidDataException>(() => CheckpointLoader.Read(dir).Dispose());
        Assert.Contains("newer SharpClip", e.Message);
    }

    [Fact]
    public void FileNamesMayNotLeaveTheFolder()
    {
        using var tmp = new TempDir();
        var dir = WriteSmallFolder(tmp);
        EditConfig(dir, c => c["weights"] = "../m/model.safetensors");
        var e = Assert.Throws<InvalidDataException>(() => CheckpointLoader.Read(dir).Dispose());
        Assert.Contains("'weights'", e.Message);
    }

    [Fact]
    public void ArchitectureThatDisagreesWithTheWeightsIsRefused()
    {
        using var tmp = new TempDir();
        var dir = WriteSmallFolder(tmp);
        EditConfig(dir, c => c["architecture"]!["embed_dim"] = 9);
        long live = LiveTensors;
        var e = Assert.Throws<InvalidDataException>(() => CheckpointLoader.Read(dir).Dispose());
        Assert.Contains(Path.Combine(dir, "model.safetensors"), e.Message);
        Assert.Contains("'text_projection'", e.Message);
        Assert.Equal(live, LiveTensors);
    }

    static void EditConfig(string dir, Action<JsonObject> edit)
    {
        var path = Path.Combine(dir, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }
}
