using System.Text.Json;
using System.Text.Json.Nodes;
using SharpClip.Checkpoints;
using SharpClip.Modeling;
using SharpClip.Tests.Infrastructure;
using static SharpClip.Tests.Checkpoints.CheckpointTestData;
using SharpClip.Vision;

namespace SharpClip.Tests.Checkpoints;

public class OpenClipFolderTests
{
    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    [Theory, Trait("Category", "Fidelity")]
    [MemberData(nameof(Models))]
    public void HubFolderWithOpenClipConfigLoads(string id)
    {
        // An open_clip hub folder built from the fixture: its weights (OpenAI names are open_clip's names) beside an
        // open_clip_config.json written from the manifest's reference config.
        var model = Fixtures.Entry("models", id);
        var cfg = model.GetProperty("config");
        var layers = cfg.GetProperty("vision_layers");
        var visionCfg = new JsonObject
        {
            ["image_size"] = cfg.GetProperty("image_resolution").GetInt32(),
            ["layers"] = JsonNode.Parse(layers.GetRawText()),
            ["width"] = cfg.GetProperty("vision_width").GetInt32(),
            ["patch_size"] = JsonNode.Parse(cfg.GetProperty("vision_patch_size").GetRawText()),
        };
        var json = new JsonObject
        {
            ["model_cfg"] = new JsonObject
            {
                ["embed_dim"] = cfg.GetProperty("embed_dim").GetInt32(),
                ["quick_gelu"] = true,
                ["vision_cfg"] = visionCfg,
                ["text_cfg"] = new JsonObject
                {
                    ["context_length"] = cfg.GetProperty("context_length").GetInt32(),
                    ["vocab_size"] = cfg.GetProperty("vocab_size").GetInt32(),
                    ["width"] = cfg.GetProperty("transformer_width").GetInt32(),
                    ["heads"] = cfg.GetProperty("transformer_heads").GetInt32(),
                    ["layers"] = cfg.GetProperty("transformer_layers").GetInt32(),
                },
            },
            ["preprocess_cfg"] = new JsonObject { ["mean"] = new JsonArray(0.5, 0.5, 0.5), ["std"] = new JsonArray(0.5, 0.5, 0.5) },
        };
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File(OpenClipConfig.FileName), json.ToJsonString());
        var weights = Fixtures.PathOf(model.GetProperty("weights").GetString()!);
        File.Copy(weights, tmp.File("open_clip_model.safetensors"));

        using var ckpt = CheckpointLoader.Read(tmp.Path);
        Assert.Equal("open_clip", ckpt.SourceFormat);
        var c = ckpt.Config!;
        Assert.Equal(cfg.GetProperty("vision_heads").GetInt32(), c.VisionHeads);
        Assert.Equal(Activation.QuickGelu, c.Activation);
        using (var inferred = CheckpointLoader.Read(weights))
            Assert.Equal(JsonSerializer.Serialize(inferred.ResolvedConfig), JsonSerializer.Serialize(c));
        Assert.Equal(PreprocessingInfo.ForResolution(c.ImageResolution) with { Mean = [0.5f, 0.5f, 0.5f], Std = [0.5f, 0.5f, 0.5f] }, ckpt.Preprocessing);
        var original = ReadSafeTensors(weights);
        try { AssertBitIdentical(original, ckpt.StateDict); }
        finally { DisposeAll(original.Values); }
    }
}
