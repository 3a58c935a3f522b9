using System.Text.Json.Nodes;
using SharpClip.Checkpoints;
using SharpClip.Modeling;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using static TorchSharp.torch;

namespace SharpClip.Tests.Checkpoints;

/// <summary>
/// Head counts other than width/64. OpenAI's checkpoints never declare theirs (width/64 is inferred), so the public
/// fixtures cannot tell a model that ignores a declared count from one that honours it; open_clip and Hugging Face
/// configs do declare them. The models whose record has a <c>heads_variant</c> (the repository's own fixtures) carry
/// the reference's features of the same weights read with other head counts.
/// </summary>
[Trait("Category", "Fidelity")]
public class DeclaredHeadCountTests
{
    public static IEnumerable<object[]> Models => Fixtures.Array("models")
        .Where(m => m.TryGetProperty("heads_variant", out _)).Select(m => new object[] { m.GetProperty("id").GetString()! });

    [Theory, MemberData(nameof(Models))]
    public void AConfigsHeadCountsAreUsed(string id)
    {
        using var reference = new ReferenceModel(id);
        using var scope = NewDisposeScope();
        var (textHeads, visionHeads) = Heads(reference);
        var inferred = ClipModel.Load(reference.WeightsPath).Config;
        var declared = inferred with { TextHeads = textHeads, VisionHeadWidth = inferred.VisionWidth / visionHeads };
        using var model = ClipModel.Load(reference.WeightsPath, declared);
        Assert.Equal(visionHeads, model.Config.VisionHeads);

        using var _ = inference_mode();
        var pixels = reference.Tensor("eval", "pixel_values");
        var ids = reference.Tensor("eval", "input_ids");
        TensorAssert.Close(reference.Tensor("heads_variant", "image_features"), model.EncodeImages(pixels), 1e-4, $"{id} image features, {visionHeads} heads");
        TensorAssert.Close(reference.Tensor("heads_variant", "text_features"), model.EncodeTexts(ids), 1e-4, $"{id} text features, {textHeads} heads");
    }

    [Theory, MemberData(nameof(Models))]
    public void AnOpenClipFolderDeclaringThemEmbedsLikeTheReference(string id)
    {
        using var reference = new ReferenceModel(id);
        var (textHeads, visionHeads) = Heads(reference);
        var cfg = reference.Section("config");
        int visionWidth = cfg.GetProperty("vision_width").GetInt32();
        var json = new JsonObject
        {
            ["model_cfg"] = new JsonObject
            {
                ["embed_dim"] = cfg.GetProperty("embed_dim").GetInt32(),
                ["quick_gelu"] = true,
                ["vision_cfg"] = new JsonObject
                {
                    ["image_size"] = cfg.GetProperty("image_resolution").GetInt32(),
                    ["layers"] = JsonNode.Parse(cfg.GetProperty("vision_layers").GetRawText()),
                    ["width"] = visionWidth,
                    ["patch_size"] = JsonNode.Parse(cfg.GetProperty("vision_patch_size").GetRawText()),
                    ["head_width"] = visionWidth / visionHeads,
                },
                ["text_cfg"] = new JsonObject
                {
                    ["context_length"] = cfg.GetProperty("context_length").GetInt32(),
                    ["vocab_size"] = cfg.GetProperty("vocab_size").GetInt32(),
                    ["width"] = cfg.GetProperty("transformer_width").GetInt32(),
                    ["heads"] = textHeads,
                    ["layers"] = cfg.GetProperty("transformer_layers").GetInt32(),
                },
            },
        };
        using var folder = new TempDir();
        File.WriteAllText(folder.File(OpenClipConfig.FileName), json.ToJsonString());
        File.Copy(reference.WeightsPath, folder.File("open_clip_model.safetensors"));
        File.Copy(Fixtures.VocabPath, folder.File(Path.GetFileName(Fixtures.VocabPath)));

        var (images, texts) = SharpClip.Tests.Cli.CliModelFidelityTests.EmbedEvalSection(reference, folder.Path, folder.File("e.safetensors"));
        using var _i = images;
        using var _t = texts;
        using var expectedImages = reference.Tensor("heads_variant", "image_features");
        using var expectedTexts = reference.Tensor("heads_variant", "text_features");
        TensorAssert.Close(expectedImages, images, 1e-4, $"{id} CLI image embeddings, {visionHeads} heads");
        TensorAssert.Close(expectedTexts, texts, 1e-4, $"{id} CLI text embeddings, {textHeads} heads");
    }

    static (int Text, int Vision) Heads(ReferenceModel reference)
    {
        var variant = reference.Section("heads_variant");
        return (variant.GetProperty("transformer_heads").GetInt32(), variant.GetProperty("vision_heads").GetInt32());
    }
}
