using SharpClip.Files;
using SharpClip.Checkpoints;
using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Modeling;

public class StateDictLoadingTests
{
    static Dictionary<string, Tensor> StateDictOf(ClipModel model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    [Fact]
    public void KeysAreOpenAIs()
    {
        using var vit = new ClipModel(TinyConfigs.Vit);
        using var resnet = new ClipModel(TinyConfigs.ResNet);
        var vitKeys = vit.state_dict().Keys.ToHashSet();
        var resnetKeys = resnet.state_dict().Keys.ToHashSet();
        string[] text =
        [
            "token_embedding.weight", "positional_embedding", "ln_final.weight", "ln_final.bias", "text_projection", "logit_scale",
            "transformer.resblocks.0.attn.in_proj_weight", "transformer.resblocks.0.attn.in_proj_bias",
            "transformer.resblocks.0.attn.out_proj.weight", "transformer.resblocks.0.attn.out_proj.bias",
            "transformer.resblocks.0.ln_1.weight", "transformer.resblocks.0.ln_2.bias",
            "transformer.resblocks.0.mlp.c_fc.weight", "transformer.resblocks.0.mlp.c_proj.bias",
        ];
        string[] vision =
        [
            "visual.conv1.weight", "visual.class_embedding", "visual.positional_embedding", "visual.ln_pre.weight",
            "visual.transformer.resblocks.1.attn.in_proj_weight", "visual.transformer.resblocks.1.mlp.c_fc.bias",
            "visual.ln_post.bias", "visual.proj",
        ];
        string[] resnetVision =
        [
            "visual.conv1.weight", "visual.bn1.running_mean", "visual.conv3.weight", "visual.bn3.num_batches_tracked",
            "visual.layer1.0.conv1.weight", "visual.layer1.0.downsample.0.weight", "visual.layer1.0.downsample.1.running_var",
            "visual.layer2.1.bn3.weight", "visual.layer4.0.downsample.1.num_batches_tracked",
            "visual.attnpool.positional_embedding", "visual.attnpool.q_proj.weight", "visual.attnpool.k_proj.bias",
            "visual.attnpool.v_proj.weight", "visual.attnpool.c_proj.weight",
        ];
        foreach (var k in text.Concat(vision)) Assert.Contains(k, vitKeys);
        foreach (var k in text.Concat(resnetVision)) Assert.Contains(k, resnetKeys);
        Assert.DoesNotContain("visual.layer2.1.downsample.0.weight", resnetKeys); // only the first block of a stage projects
        Assert.All(vitKeys.Concat(resnetKeys), k => Assert.DoesNotContain("k__BackingField", k));
        Assert.Empty(resnet.state_dict()["visual.bn1.num_batches_tracked"].shape); // a scalar, as PyTorch stores it
    }

    [Theory, MemberData(nameof(TinyConfigs.All), MemberType = typeof(TinyConfigs))]
    public void RoundTripsThroughAStateDict(string name)
    {
        var config = TinyConfigs.ByName(name);
        using var scope = torch.NewDisposeScope();
        using var original = new ClipModel(config);
        var sd = StateDictOf(original);
        using var loaded = ClipModel.FromStateDict(sd, "memory", config);
        Assert.False(loaded.training);
        foreach (var (key, value) in loaded.state_dict())
            Assert.True(value.equal(sd[key]).all().item<bool>(), key);
    }

    [Theory]
    [InlineData("vit")]
    [InlineData("resnet")]
    public void InfersTheArchitectureFromShapesAlone(string name)
    {
        var config = TinyConfigs.ByName(name);
        using var model = new ClipModel(config);
        var shapes = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        Assert.Equal(config, ClipConfig.InferFromStateDict(shapes));
    }

    [Fact]
    public void InfersTheMlpRatioOfOpenClipGiantShapes()
    {
        using var model = new ClipModel(TinyConfigs.GiantLike);
        var inferred = ClipConfig.InferFromStateDict(model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape));
        Assert.Equal(TinyConfigs.GiantLike.VisionMlpWidth, inferred.VisionMlpWidth);
    }

    [Fact]
    public void RefusesAMissingKeyNamingIt()
    {
        using var model = new ClipModel(TinyConfigs.Vit);
        var sd = StateDictOf(model);
        sd.Remove("transformer.resblocks.1.ln_2.bias");
        var e = Assert.Throws<InvalidDataException>(() => ClipModel.FromStateDict(sd, "weights.safetensors"));
        Assert.Contains("weights.safetensors", e.Message);
        Assert.Contains("missing 'transformer.resblocks.1.ln_2.bias'", e.Message);
    }

    [Fact]
    public void RefusesAKeyTheArchitectureNeedsToBeInferred()
    {
        using var model = new ClipModel(TinyConfigs.ResNet);
        var sd = StateDictOf(model);
        sd.Remove("visual.attnpool.positional_embedding");
        var e = Assert.Throws<InvalidDataException>(() => ClipModel.FromStateDict(sd, "rn.pt"));
        Assert.Contains("rn.pt", e.Message);
        Assert.Contains("visual.attnpool.positional_embedding", e.Message);
    }

    [Fact]
    public void RefusesAWrongShapeEvenWhenItWouldBroadcast()
    {
        using var model = new ClipModel(TinyConfigs.Vit);
        var sd = StateDictOf(model);
        sd["ln_final.bias"] = torch.zeros(1); // TorchSharp's load_state_dict would silently fill all 64 from this
        var e = Assert.Throws<InvalidDataException>(() => ClipModel.FromStateDict(sd, "m.safetensors"));
        Assert.Contains("'ln_final.bias' has shape [1], the model needs [64]", e.Message);
    }

    [Fact]
    public void RefusesUnexpectedKeysAndIntegerWeights()
    {
        using var model = new ClipModel(TinyConfigs.Vit);
        var sd = StateDictOf(model);
        sd["visual.extra.weight"] = torch.zeros(3);
        sd["text_projection"] = torch.zeros(sd["text_projection"].shape, dtype: ScalarType.Int64);
        var e = Assert.Throws<InvalidDataException>(() => ClipModel.FromStateDict(sd, "m"));
        Assert.Contains("unexpected 'visual.extra.weight'", e.Message);
        Assert.Contains("'text_projection' is Int64", e.Message);
    }

    [Fact]
    public void IgnoresTheExtrasOfOpenAIsTorchScriptArchives()
    {
        using var model = new ClipModel(TinyConfigs.Vit);
        var sd = StateDictOf(model);
        sd["input_resolution"] = torch.tensor(16L);
        sd["context_length"] = torch.tensor(12L);
        sd["vocab_size"] = torch.tensor(300L);
        using var loaded = ClipModel.FromStateDict(sd, "jit");
        Assert.Equal(TinyConfigs.Vit, loaded.Config);
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void LoadsHalfPrecisionSafetensorsExactlyIntoFloat32(ScalarType stored)
    {
        var path = Path.Combine(Path.GetTempPath(), $"clip-{Guid.NewGuid():N}.safetensors");
        try
        {
            using var scope = torch.NewDisposeScope();
            using var model = new ClipModel(TinyConfigs.ResNet);
            var sd = model.state_dict().ToDictionary(kv => kv.Key,
                kv => torch.is_floating_point(kv.Value) ? kv.Value.detach().to(stored) : kv.Value.detach());
            SafeTensorsWriter.Write(path, sd);
            using var loaded = ClipModel.Load(path);
            Assert.Equal(TinyConfigs.ResNet, loaded.Config);
            foreach (var (key, value) in loaded.state_dict())
            {
                if (torch.is_floating_point(value)) Assert.Equal(ScalarType.Float32, value.dtype);
                Assert.True(value.equal(sd[key].to(value.dtype)).all().item<bool>(), key);
            }
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void RefusesAFileWithAMissingKeyNamingFileAndKey()
    {
        var path = Path.Combine(Path.GetTempPath(), $"clip-{Guid.NewGuid():N}.safetensors");
        try
        {
            using var model = new ClipModel(TinyConfigs.Vit);
            var sd = StateDictOf(model);
            sd.Remove("visual.ln_post.weight");
            SafeTensorsWriter.Write(path, sd);
            var e = Assert.Throws<InvalidDataException>(() => ClipModel.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("visual.ln_post.weight", e.Message);
        }
        finally { File.Delete(path); }
    }
}
