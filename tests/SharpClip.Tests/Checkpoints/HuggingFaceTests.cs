using SharpClip.Files;
using System.Text.Json;
using SharpClip.Checkpoints;
using SharpClip.Modeling;
using SharpClip.Tests.Infrastructure;
using static SharpClip.Tests.Checkpoints.CheckpointTestData;
using SharpClip.Vision;

namespace SharpClip.Tests.Checkpoints;

public class HuggingFaceTests
{
    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    [Fact]
    public void TinyTransformersFolderWithPytorchBinLoads()
    {
        var dir = PathOf("hf_tiny");
        using var ckpt = CheckpointLoader.Read(dir);
        var expected = ReadSafeTensors(PathOf("hf_tiny.expected.safetensors"));
        try
        {
            AssertBitIdentical(expected, ckpt.StateDict);
        }
        finally { DisposeAll(expected.Values); }

        Assert.Equal("huggingface", ckpt.SourceFormat);
        var c = ckpt.Config!;
        // Values from hf_tiny/config.json (written by make_pt_fixtures.py).
        Assert.Equal(8, c.EmbedDim);
        Assert.Equal(8, c.ImageResolution);
        Assert.Equal(4, c.VisionPatchSize);
        Assert.Equal([1], c.VisionLayers);
        Assert.Equal(16, c.VisionWidth);
        Assert.Equal(2, c.VisionHeads);
        Assert.Equal(64, c.VisionMlpWidth);
        Assert.Equal(7, c.ContextLength);
        Assert.Equal(11, c.VocabSize);
        Assert.Equal(16, c.TextWidth);
        Assert.Equal(2, c.TextHeads);
        Assert.Equal(1, c.TextLayers);
        Assert.Equal(Activation.Gelu, c.Activation);
        Assert.Contains("text_model.embeddings.position_ids", ckpt.DroppedKeys);
        Assert.Contains("vision_model.embeddings.position_ids", ckpt.DroppedKeys);
        Assert.Equal(new PreprocessingInfo { ResizeShortestEdge = 10, CropSize = 8, Mean = [0.5f, 0.5f, 0.5f], Std = [0.25f, 0.25f, 0.25f] },
            ckpt.Preprocessing);
        Assert.Equal(Path.Combine(dir, "vocab.json"), ckpt.VocabPath);
        Assert.Equal(Path.Combine(dir, "merges.txt"), ckpt.MergesPath);
    }

    [Theory, Trait("Category", "Fidelity")]
    [MemberData(nameof(Models))]
    public void ExportRoundTripsBitExactOrRefusesResNet(string id)
    {
        var model = Fixtures.Entry("models", id);
        var weights = Fixtures.PathOf(model.GetProperty("weights").GetString()!);
        using var source = CheckpointLoader.Read(weights);
        using var tmp = new TempDir();
        var dir = Path.Combine(tmp.Path, "hf");
        var pre = PreprocessingInfo.ForResolution(source.ResolvedConfig.ImageResolution);
        if (model.GetProperty("architecture").GetString() != "vit")
        {
            Assert.Throws<NotSupportedException>(() => HuggingFaceClipFolder.Write(dir, source.ResolvedConfig, source.StateDict, pre));
            Assert.False(Directory.Exists(dir));
            return;
        }
        HuggingFaceClipFolder.Write(dir, source.ResolvedConfig, source.StateDict, pre);
        using (var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "config.json"))))
            Assert.Equal("clip", doc.RootElement.GetProperty("model_type").GetString());
        using var hfFile = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors"));
        Assert.Contains("vision_model.encoder.layers.0.self_attn.q_proj.weight", hfFile.Names);
        Assert.Contains("visual_projection.weight", hfFile.Names);

        using var back = CheckpointLoader.Read(dir);
        var original = ReadSafeTensors(weights);
        try
        {
            AssertBitIdentical(original, back.StateDict);
        }
        finally { DisposeAll(original.Values); }
        Assert.Equal("huggingface", back.SourceFormat);
        Assert.Equal(JsonSerializer.Serialize(source.ResolvedConfig), JsonSerializer.Serialize(back.Config));
        Assert.Equal(pre, back.Preprocessing);
    }

    [Fact]
    public void MissingKeyProjectionIsNamed()
    {
        var openai = ReadSafeTensors(PathOf("hf_tiny.expected.safetensors"));
        Dictionary<string, TorchSharp.torch.Tensor>? hf = null;
        try
        {
            hf = HuggingFaceNaming.FromOpenAI(openai);
            hf.Remove("text_model.encoder.layers.0.self_attn.k_proj.bias", out var removed);
            removed!.Dispose();
            var e = Assert.Throws<InvalidDataException>(() => HuggingFaceNaming.ToOpenAI(hf, "some.bin", []));
            Assert.Contains("some.bin", e.Message);
            Assert.Contains("'text_model.encoder.layers.0.self_attn.k_proj.bias'", e.Message);
        }
        finally
        {
            DisposeAll(openai.Values);
            if (hf is not null) DisposeAll(hf.Values);
        }
    }

    [Theory]
    [InlineData("""{"model_type": "clip", "text_config": {"hidden_size": 16, "intermediate_size": 48, "num_attention_heads": 2}}""", "text_config.intermediate_size")]
    [InlineData("""{"model_type": "clip", "text_config": {"hidden_act": "relu"}, "vision_config": {"hidden_act": "relu"}}""", "text_config.hidden_act")]
    [InlineData("""{"model_type": "clip", "text_config": {"hidden_act": "gelu"}}""", "hidden_act")]
    [InlineData("""{"model_type": "clip", "vision_config": {"layer_norm_eps": 1e-6}}""", "vision_config.layer_norm_eps")]
    [InlineData("""{"model_type": "siglip"}""", "model_type")]
    [InlineData("""{"model_type": "clip", "vision_config": {"num_hidden_layers": "twelve"}}""", "vision_config.num_hidden_layers")]
    public void UnrepresentableConfigsAreRefusedNamingTheField(string json, string field)
    {
        using var doc = JsonDocument.Parse(json);
        var e = Assert.Throws<InvalidDataException>(() => HuggingFaceClipConfig.FromJson(doc.RootElement, "cfg.json"));
        Assert.Contains("cfg.json", e.Message);
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void DefaultsAreTransformersDefaults()
    {
        // transformers' CLIPConfig() is ViT-B/32: 768-wide 12-layer vision tower, 512-wide 12-layer text tower.
        using var doc = JsonDocument.Parse("""{"model_type": "clip"}""");
        var c = HuggingFaceClipConfig.FromJson(doc.RootElement, "cfg.json");
        Assert.Equal(JsonSerializer.Serialize(new ClipConfig()), JsonSerializer.Serialize(c));
    }
}
