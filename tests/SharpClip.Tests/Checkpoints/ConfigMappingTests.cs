using System.Text.Json;
using SharpClip.Checkpoints;
using SharpClip.Modeling;
using SharpClip.Vision;

namespace SharpClip.Tests.Checkpoints;

/// <summary>Published configs (as transformers and open_clip ship them) map onto the CLIP paper's architectures.</summary>
public class ConfigMappingTests
{
    [Fact]
    public void TransformersViTL14Config()
    {
        // openai/clip-vit-large-patch14's config.json (abridged to the fields that matter).
        using var doc = JsonDocument.Parse("""
        {"architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 768,
         "text_config": {"hidden_act": "quick_gelu", "hidden_size": 768, "intermediate_size": 3072, "layer_norm_eps": 1e-05,
                         "max_position_embeddings": 77, "num_attention_heads": 12, "num_hidden_layers": 12, "vocab_size": 49408,
                         "projection_dim": 768},
         "vision_config": {"hidden_act": "quick_gelu", "hidden_size": 1024, "image_size": 224, "intermediate_size": 4096,
                           "layer_norm_eps": 1e-05, "num_attention_heads": 16, "num_hidden_layers": 24, "patch_size": 14,
                           "projection_dim": 768}}
        """);
        var c = HuggingFaceClipConfig.FromJson(doc.RootElement, "config.json");
        Assert.Equal((768, 224, 24, 1024, 14, 16, 4096), (c.EmbedDim, c.ImageResolution, c.VisionLayers.Single(), c.VisionWidth, c.VisionPatchSize, c.VisionHeads, c.VisionMlpWidth));
        Assert.Equal((77, 49408, 768, 12, 12, Activation.QuickGelu), (c.ContextLength, c.VocabSize, c.TextWidth, c.TextHeads, c.TextLayers, c.Activation));

        // Our export says the same thing back.
        var again = HuggingFaceClipConfig.FromJson(JsonSerializer.SerializeToElement(HuggingFaceClipConfig.ToJson(c)), "export");
        Assert.Equal(JsonSerializer.Serialize(c), JsonSerializer.Serialize(again));
    }

    static (ClipConfig Config, PreprocessingInfo? Pre) ReadOpenClip(string json)
    {
        using var tmp = new TempDir();
        var path = tmp.File(OpenClipConfig.FileName);
        File.WriteAllText(path, json);
        return OpenClipConfig.Read(path);
    }

    [Fact]
    public void OpenClipViTH14Config()
    {
        // laion/CLIP-ViT-H-14-laion2B-s32B-b79K's open_clip_config.json: head width 80, plain GELU.
        var (c, pre) = ReadOpenClip("""
        {"model_cfg": {"embed_dim": 1024,
                       "vision_cfg": {"image_size": 224, "layers": 32, "width": 1280, "head_width": 80, "patch_size": 14},
                       "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 1024, "heads": 16, "layers": 24}},
         "preprocess_cfg": {"mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711]}}
        """);
        Assert.Equal((1024, 224, 32, 1280, 14, 16, 5120), (c.EmbedDim, c.ImageResolution, c.VisionLayers.Single(), c.VisionWidth, c.VisionPatchSize, c.VisionHeads, c.VisionMlpWidth));
        Assert.Equal((77, 49408, 1024, 16, 24, Activation.Gelu), (c.ContextLength, c.VocabSize, c.TextWidth, c.TextHeads, c.TextLayers, c.Activation));
        Assert.Equal(PreprocessingInfo.ForResolution(224), pre);
    }

    [Fact]
    public void OpenClipViTg14MlpRatioSurvives()
    {
        // open_clip's ViT-g-14: MLP ratio 4.3637 → 1408 * 4.3637 = 6144.09 → 6144, as open_clip's int() gives.
        var (c, _) = ReadOpenClip("""
        {"model_cfg": {"embed_dim": 1024,
                       "vision_cfg": {"image_size": 224, "layers": 40, "width": 1408, "head_width": 88, "mlp_ratio": 4.3637, "patch_size": 14},
                       "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 1024, "heads": 16, "layers": 24}}}
        """);
        Assert.Equal(6144, c.VisionMlpWidth);
        Assert.Equal(16, c.VisionHeads);
    }

    [Fact]
    public void OpenClipRN50QuickGeluConfig()
    {
        var (c, pre) = ReadOpenClip("""
        {"model_cfg": {"embed_dim": 1024, "quick_gelu": true,
                       "vision_cfg": {"image_size": 224, "layers": [3, 4, 6, 3], "width": 64, "patch_size": null},
                       "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 512, "heads": 8, "layers": 12}}}
        """);
        Assert.False(c.IsVisionTransformer);
        Assert.Equal([3, 4, 6, 3], c.VisionLayers);
        Assert.Equal(32, c.VisionHeads); // width * 32 / 64, the reference's attention-pool heads
        Assert.Equal(Activation.QuickGelu, c.Activation);
        Assert.Null(pre);
    }

    [Theory]
    [InlineData("""{"model_cfg": {"vision_cfg": {"timm_model_name": "convnext_base"}}}""", "vision_cfg.timm_model_name")]
    [InlineData("""{"model_cfg": {"text_cfg": {"hf_model_name": "xlm-roberta-base"}}}""", "text_cfg.hf_model_name")]
    [InlineData("""{"model_cfg": {"vision_cfg": {"attentional_pool": true}}}""", "vision_cfg.attentional_pool")]
    [InlineData("""{"model_cfg": {"init_logit_bias": -10}}""", "model_cfg.init_logit_bias")]
    [InlineData("""{"model_cfg": {"text_cfg": {"pool_type": "last"}}}""", "text_cfg.pool_type")]
    [InlineData("""{"model_cfg": {}, "preprocess_cfg": {"resize_mode": "squash"}}""", "resize_mode")]
    [InlineData("""{"model": {}}""", "model_cfg")]
    public void OpenClipFeaturesWeDoNotHaveAreRefused(string json, string field)
    {
        var e = Assert.Throws<InvalidDataException>(() => ReadOpenClip(json));
        Assert.Contains(OpenClipConfig.FileName, e.Message);
        Assert.Contains(field, e.Message);
    }

    [Theory]
    [InlineData("""{"size": {"shortest_edge": 336}, "crop_size": {"height": 336, "width": 336}, "resample": 3}""", 336, 336, ResampleFilter.Bicubic)]
    [InlineData("""{"size": 256, "crop_size": 224, "resample": 2}""", 256, 224, ResampleFilter.Bilinear)]
    [InlineData("""{"size": 224, "crop_size": 200, "do_center_crop": false}""", 224, 224, ResampleFilter.Bicubic)]
    public void HuggingFacePreprocessorConfigs(string json, int size, int crop, ResampleFilter resample)
    {
        using var tmp = new TempDir();
        var path = tmp.File("preprocessor_config.json");
        File.WriteAllText(path, json);
        var p = CheckpointLoader.ReadPreprocessorConfig(path); // as a model folder's: a square crop, even without do_center_crop
        Assert.Equal((size, crop, resample, true), (p.ResizeShortestEdge, p.CropSize, p.Resample, p.DoCenterCrop));
        Assert.Equal(PreprocessingInfo.ClipMean, p.Mean);
        // Written back and read again: the same.
        var again = tmp.File("again.json");
        p.WriteHuggingFace(again);
        Assert.Equal(p, PreprocessingInfo.ReadHuggingFace(again));
    }

    [Theory]
    [InlineData("""{"size": 224, "crop_size": 300}""", "crop_size")]
    [InlineData("""{"image_std": [0.5, 0, 0.5]}""", "image_std")]
    [InlineData("""{"resample": 1}""", "resample")]
    [InlineData("""{"size": {"height": 224, "width": 200}}""", "size")]
    [InlineData("""{"crop_size": {"height": 224, "width": 200}}""", "crop_size")]
    [InlineData("""{"do_rescale": "yes"}""", "do_rescale")]
    [InlineData("""{"image_mean": [0.5, "a", 0.5]}""", "image_mean")]
    [InlineData("""{"do_resize": false}""", "do_resize")] // fine for `sharpclip preprocess`, not for a model's fixed input
    public void BadPreprocessorConfigsAreRefused(string json, string field)
    {
        using var tmp = new TempDir();
        var path = tmp.File("preprocessor_config.json");
        File.WriteAllText(path, json);
        var e = Assert.Throws<InvalidDataException>(() => CheckpointLoader.ReadPreprocessorConfig(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(field, e.Message);
    }
}
