using SharpClip.Files;
using SharpClip.Generation.Diffusion.Autoencoder;
using SharpClip.Tests.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Diffusion.Autoencoder;

/// <summary>
/// A bad autoencoder state dict — a key missing, one too many, a wrong shape (including one libtorch would silently
/// broadcast), NaN weights, a declared config the tensors contradict, a file without an autoencoder — gives one
/// <see cref="InvalidDataException"/> naming the source and the key or field, and no model.
/// </summary>
public class AutoencoderLoadingErrorTests
{
    const string Source = "test-vae.safetensors";

    /// <summary>The first record's autoencoder tensors, prefix stripped: a state dict that loads.</summary>
    static Dictionary<string, Tensor> StateDict(out StableDiffusionReference reference)
    {
        reference = new StableDiffusionReference(GenerativeFixtures.StableDiffusionModelIds().First()[0].ToString()!);
        using var file = SafeTensorsFile.Open(reference.WeightsPath);
        var prefix = reference.VaePrefix;
        return file.Names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(n => n[prefix.Length..], n => file.ReadTensor(n));
    }

    static InvalidDataException Refused(Dictionary<string, Tensor> stateDict, AutoencoderConfig? config = null)
    {
        var error = Assert.Throws<InvalidDataException>(() => AutoencoderKL.FromStateDict(stateDict, Source, config).Dispose());
        Assert.Contains(Source, error.Message);
        return error;
    }

    [Fact]
    public void TheUnchangedStateDictLoads()
    {
        var stateDict = StateDict(out var reference);
        using var _ = reference;
        using var vae = AutoencoderKL.FromStateDict(stateDict, Source);
        Assert.Equal(Source, vae.Source);
    }

    [Fact]
    public void AMissingKeyIsNamed()
    {
        var stateDict = StateDict(out var reference);
        using var _ = reference;
        var key = stateDict.Keys.Where(k => k.StartsWith("decoder.up.", StringComparison.Ordinal) && k.EndsWith(".conv2.bias", StringComparison.Ordinal)).Order().First();
        stateDict.Remove(key);
        var error = Refused(stateDict);
        Assert.Contains($"missing '{key}'", error.Message);
    }

    [Fact]
    public void AMissingKeyTheShapeIsReadFromIsNamed()
    {
        var stateDict = StateDict(out var reference);
        using var _ = reference;
        stateDict.Remove("post_quant_conv.weight");
        Assert.Contains("'post_quant_conv.weight'", Refused(stateDict).Message);
    }

    [Fact]
    public void AnUnexpectedKeyIsNamed()
    {
        var stateDict = StateDict(out var reference);
        using var _ = reference;
        // One more decoder block than num_res_blocks + 1: a different architecture, not an extra to ignore.
        int blocks = stateDict.Keys.Count(k => k.StartsWith("decoder.up.0.block.", StringComparison.Ordinal) && k.EndsWith(".conv1.weight", StringComparison.Ordinal));
        var key = $"decoder.up.0.block.{blocks}.conv1.weight";
        stateDict[key] = stateDict["decoder.up.0.block.0.conv1.weight"];
        Assert.Contains($"unexpected '{key}'", Refused(stateDict).Message);
    }

    [Theory]
    [InlineData(1L)]  // would broadcast silently into every channel under TorchSharp's own load_state_dict
    [InlineData(-1L)] // one channel short
    public void AMisShapedTensorIsNamedWithBothShapes(long size)
    {
        var stateDict = StateDict(out var reference);
        using var _ = reference;
        const string key = "decoder.mid.attn_1.q.bias";
        long channels = stateDict[key].shape[0];
        long wrong = size > 0 ? size : channels + size;
        stateDict[key] = torch.zeros(wrong);
        var error = Refused(stateDict);
        Assert.Contains($"'{key}' has shape [{wrong}], the model needs [{channels}]", error.Message);
    }

    [Fact]
    public void NonFiniteWeightsAreNamed()
    {
        var stateDict = StateDict(out var reference);
        using var _ = reference;
        const string key = "encoder.mid.block_2.conv1.weight";
        stateDict[key] = stateDict[key].clone();
        stateDict[key].view(-1)[3] = torch.tensor(float.NaN);
        Assert.Contains($"'{key}'", Refused(stateDict).Message);
    }

    [Fact]
    public void ADeclaredConfigTheWeightsContradictIsNamed()
    {
        var stateDict = StateDict(out var reference);
        using var _ = reference;
        var held = AutoencoderKL.FromStateDict(stateDict, Source).Config;

        var moreLevels = held with { ChannelMultipliers = [.. held.ChannelMultipliers, held.ChannelMultipliers[^1]] };
        var error = Refused(stateDict, moreLevels);
        Assert.Contains($"the config declares ch_mult [{string.Join(", ", moreLevels.ChannelMultipliers)}], the weights hold [{string.Join(", ", held.ChannelMultipliers)}]", error.Message);

        var wider = held with { ChannelMultipliers = [.. held.ChannelMultipliers.Select((m, i) => i == 1 ? m * 2 : m)] };
        Assert.Contains("encoder.down.1.block.0.conv1.weight", Refused(stateDict, wider).Message);

        error = Refused(stateDict, held with { ResBlocks = held.ResBlocks + 1 });
        Assert.Contains($"num_res_blocks {held.ResBlocks + 1}, the weights hold {held.ResBlocks}", error.Message);

        error = Refused(stateDict, held with { Channels = held.Channels * 2 });
        Assert.Contains("encoder.conv_in.weight", error.Message);
    }

    [Fact]
    public void AFileWithoutAutoencoderTensorsIsRefusedByName()
    {
        using var dir = new TempDir();
        var path = dir.File("unet-only.safetensors");
        using (var t = torch.zeros(4))
            SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["model.diffusion_model.out.2.bias"] = t });
        var error = Assert.Throws<InvalidDataException>(() => AutoencoderKL.Load(path).Dispose());
        Assert.Contains(path, error.Message);
        Assert.Contains("first_stage_model.", error.Message);
    }

    [Fact]
    public void ErrorsFromACheckpointNameTheFileAndPrefix()
    {
        var stateDict = StateDict(out var reference);
        using var _ = reference;
        using var dir = new TempDir();
        var path = dir.File("sd.safetensors");
        stateDict.Remove("quant_conv.bias");
        SafeTensorsWriter.Write(path, stateDict.ToDictionary(kv => AutoencoderKL.CheckpointPrefix + kv.Key, kv => kv.Value));
        var error = Assert.Throws<InvalidDataException>(() => AutoencoderKL.Load(path).Dispose());
        Assert.Contains(path, error.Message);
        Assert.Contains("'first_stage_model.'", error.Message);
        Assert.Contains("missing 'quant_conv.bias'", error.Message);
    }

    [Fact]
    public void ChannelCountsGroupNormCannotSplitAreRefused()
    {
        var error = Assert.Throws<InvalidDataException>(() => new AutoencoderKL(new AutoencoderConfig { Channels = 48, ChannelMultipliers = [1, 2] }));
        Assert.Contains("ch 48", error.Message);
        Assert.Contains("32 groups", error.Message);
    }
}
