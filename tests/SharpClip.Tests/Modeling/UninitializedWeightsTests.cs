using SharpClip.Generation.Dalle.Dvae;
using SharpClip.Generation.Dalle.Transformer;
using SharpClip.Generation.Diffusion.Autoencoder;
using SharpClip.Generation.Diffusion.Conditioning;
using SharpClip.Generation.Diffusion.UNet;
using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;
using DvaeDecoder = SharpClip.Generation.Dalle.Dvae.Decoder;
using DvaeEncoder = SharpClip.Generation.Dalle.Dvae.Encoder;

namespace SharpClip.Tests.Modeling;

/// <summary>
/// Models built for loading (<see cref="UninitializedWeights"/>: weights allocated, never drawn) load into exactly the
/// model the old path gave — random initialisation, then the same copy — and run to the same bits; and since their
/// weights are garbage until copied, a file missing any one parameter or buffer must fail naming it.
/// Every model kind a loader builds is covered at a small size: CLIP (ViT and ResNet towers), the SD U-Net (v1's
/// convolution projections and v2's linear ones), the KL autoencoder, the conditioning text encoder, the DALL-E
/// transformer and both halves of the dVAE.
/// </summary>
public class UninitializedWeightsTests
{
    /// <summary>A model kind: how to build it and one deterministic output of it (every tower or half it has).</summary>
    sealed record Case(Func<nn.Module> Build, Func<nn.Module, Tensor> Output);

    static readonly DalleConfig Dalle = new() { TextVocabSize = 20, TextLength = 5, ImageVocabSize = 12, ImageRows = 3, ImageColumns = 2, Width = 32, Layers = 2, Heads = 4 };

    static Tensor Inputs(long[] shape, int seed) => torch.randn(shape, generator: new Generator((ulong)seed));

    static Tensor Ids(long[] shape, long high, int seed) => torch.randint(0, high, shape, generator: new Generator((ulong)seed));

    static Tensor Clip(nn.Module m, int resolution)
    {
        var model = (ClipModel)m;
        using var pixels = Inputs([2, 3, resolution, resolution], 1);
        using var ids = Ids([2, model.Config.ContextLength], model.Config.VocabSize, 2);
        using var images = model.EncodeImages(pixels);
        using var texts = model.EncodeTexts(ids);
        return torch.cat([images.flatten(), texts.flatten()]);
    }

    static readonly Dictionary<string, Case> Cases = new()
    {
        ["clip-vit"] = new(() => new ClipModel(TinyConfigs.Vit), m => Clip(m, TinyConfigs.Vit.ImageResolution)),
        ["clip-resnet"] = new(() => new ClipModel(TinyConfigs.ResNet), m => Clip(m, TinyConfigs.ResNet.ImageResolution)),
        ["unet-v1"] = new(() => new UNetModel(new UNetConfig { ModelChannels = 32, ChannelMult = [1, 2], NumResBlocks = 1, AttentionResolutions = [1, 2], NumHeads = 2, ContextDim = 24 }),
            m => UNet(m, 24)),
        ["unet-v2"] = new(() => new UNetModel(new UNetConfig
        {
            ModelChannels = 32, ChannelMult = [1, 2], NumResBlocks = 1, AttentionResolutions = [1], NumHeads = -1, NumHeadChannels = 8, ContextDim = 16,
            UseLinearInTransformer = true,
        }), m => UNet(m, 16)),
        ["autoencoder"] = new(() => new AutoencoderKL(new AutoencoderConfig { Channels = 32, ChannelMultipliers = [1, 1], ResBlocks = 1, AttentionLevels = [1] }), m =>
        {
            var vae = (AutoencoderKL)m;
            using var image = Inputs([1, 3, 16, 16], 3);
            using var moments = vae.EncodeMoments(image);
            using var latent = Inputs([1, 4, 8, 8], 4);
            using var decoded = vae.DecodeUnscaled(latent);
            return torch.cat([moments.flatten(), decoded.flatten()]);
        }),
        ["text-encoder"] = new(() => new ConditioningTextEncoder(new TextEncoderConfig { VocabSize = 300, ContextLength = 12, Width = 32, Layers = 2, Heads = 2, MlpWidth = 64 }), m =>
        {
            using var ids = Ids([2, 12], 300, 5);
            return ((ConditioningTextEncoder)m).Encode(ids);
        }),
        ["dalle"] = new(() => new DalleTransformer(Dalle), m =>
        {
            using var text = Ids([2, Dalle.TextLength], Dalle.TextTokens, 6);
            using var image = Ids([2, Dalle.ImageTokens - 1], Dalle.ImageVocabSize, 7);
            return ((DalleTransformer)m).Forward(text, image);
        }),
        ["dvae-encoder"] = new(() => new DvaeEncoder(new DvaeEncoderConfig(3, 16, 1, 3, 32)), m =>
        {
            using var image = Inputs([1, 3, 16, 16], 8);
            return ((DvaeEncoder)m).forward(image);
        }),
        ["dvae-decoder"] = new(() => new DvaeDecoder(new DvaeDecoderConfig(3, 16, 16, 1, 3, 32)), m =>
        {
            using var codes = Inputs([1, 32, 2, 2], 9).softmax(1);
            return ((DvaeDecoder)m).forward(codes);
        }),
    };

    static Tensor UNet(nn.Module m, int contextDim)
    {
        using var x = Inputs([2, 4, 8, 8], 10);
        using var t = torch.tensor(new long[] { 1, 500 });
        using var context = Inputs([2, 5, contextDim], 11);
        return ((UNetModel)m).forward(x, t, context);
    }

    public static IEnumerable<object[]> Kinds => Cases.Keys.Select(k => new object[] { k });

    /// <summary>A randomly initialised model's state dict (seeded), cloned: what a checkpoint file holds.</summary>
    static Dictionary<string, Tensor> Checkpoint(Case c, int seed)
    {
        torch.manual_seed(seed);
        using var source = c.Build();
        return source.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope(), StringComparer.Ordinal);
    }

    static T Load<T>(T model, Dictionary<string, Tensor> checkpoint, string name) where T : nn.Module =>
        StateDictLoader.LoadFresh(model, checkpoint.ToDictionary(kv => kv.Key, kv => new StateDictLoader.Entry(kv.Value.shape, kv.Value.dtype)),
            key => checkpoint[key].alias(), name);

    static void DisposeAll(Dictionary<string, Tensor> tensors)
    {
        foreach (var t in tensors.Values) t.Dispose();
    }

    /// <summary>The allocator hands back freed memory full of 7s, so uninitialised weights are not the zeros of a fresh page.</summary>
    static void DirtyTheAllocator()
    {
        for (long size = 1 << 10; size <= 1 << 20; size *= 4)
            using (var junk = torch.full([size], 7.0f)) { }
    }

    [Theory, MemberData(nameof(Kinds))]
    public void LoadsToTheSameBitsAsRandomInitialisationThenLoading(string kind)
    {
        var c = Cases[kind];
        using var scope = torch.NewDisposeScope();
        var checkpoint = Checkpoint(c, seed: 5);
        try
        {
            torch.manual_seed(123);   // the old path draws; the new one must not need to
            using var old = Load(c.Build(), checkpoint, "old path");
            DirtyTheAllocator();
            using var built = Load(UninitializedWeights.Build(c.Build), checkpoint, "new path");

            // The same module: names, shapes, dtypes, values, and which tensors train (fine-tuning starts from a loaded model).
            var oldParams = old.named_parameters().ToDictionary(p => p.name, p => p.parameter.requires_grad);
            var newParams = built.named_parameters().ToDictionary(p => p.name, p => p.parameter.requires_grad);
            Assert.Equal(oldParams, newParams);
            var oldState = old.state_dict();
            var newState = built.state_dict();
            Assert.Equal(oldState.Keys.Order(StringComparer.Ordinal), newState.Keys.Order(StringComparer.Ordinal));
            foreach (var (key, value) in oldState)
            {
                Assert.Equal(value.shape, newState[key].shape);
                Assert.Equal(value.dtype, newState[key].dtype);
                Assert.True(value.eq(newState[key]).all().item<bool>(), $"{kind}: '{key}' differs");
            }
            Assert.Equal(old.training, built.training);

            using var _ = torch.inference_mode();
            var expected = c.Output(old);
            var actual = c.Output(built);
            Assert.Equal(expected.shape, actual.shape);
            Assert.False(expected.isnan().any().item<bool>(), $"{kind}: the old path's output has NaN");   // DALL-E's masked logits are −∞ by design
            Assert.True(expected.eq(actual).all().item<bool>(), $"{kind}: outputs differ, max |diff| {(expected - actual).abs().max().item<float>()}");
        }
        finally
        {
            DisposeAll(checkpoint);
        }
    }

    /// <summary>About a dozen parameters spread over the model in key order, its last one, and its first three buffers.</summary>
    static IEnumerable<string> KeysToDrop(Dictionary<string, Tensor> checkpoint, nn.Module model)
    {
        var buffers = model.named_buffers().Select(b => b.name).ToHashSet(StringComparer.Ordinal);
        var keys = checkpoint.Keys.Order(StringComparer.Ordinal).ToList();
        var parameters = keys.Where(k => !buffers.Contains(k)).ToList();
        int step = Math.Max(1, parameters.Count / 12);
        return parameters.Where((_, i) => i % step == 0).Append(parameters[^1]).Concat(buffers.Order(StringComparer.Ordinal).Take(3)).Distinct();
    }

    [Theory, MemberData(nameof(Kinds))]
    public void AMissingParameterOrBufferIsNamed(string kind)
    {
        var c = Cases[kind];
        using var scope = torch.NewDisposeScope();
        var checkpoint = Checkpoint(c, seed: 6);
        try
        {
            using var probe = c.Build();
            var dropped = KeysToDrop(checkpoint, probe).ToList();
            if (kind == "clip-resnet") Assert.Contains(dropped, k => k.Contains("running_", StringComparison.Ordinal));   // buffers are covered too
            foreach (var key in dropped)
            {
                var partial = checkpoint.Where(kv => kv.Key != key).ToDictionary(StringComparer.Ordinal);
                var e = Assert.Throws<InvalidDataException>(() => Load(UninitializedWeights.Build(c.Build), partial, "weights.safetensors").Dispose());
                Assert.Contains("weights.safetensors", e.Message);
                Assert.Contains($"missing '{key}'", e.Message);
            }
        }
        finally
        {
            DisposeAll(checkpoint);
        }
    }

    [Fact]
    public void TheClipLoaderBuildsForLoadingAndStillNamesAMissingKey()
    {
        using var scope = torch.NewDisposeScope();
        var checkpoint = Checkpoint(Cases["clip-resnet"], seed: 7);
        try
        {
            checkpoint.Remove("visual.layer2.0.bn2.running_var", out var removed);
            removed!.Dispose();
            var e = Assert.Throws<InvalidDataException>(() => ClipModel.FromStateDict(checkpoint, "rn.safetensors", TinyConfigs.ResNet).Dispose());
            Assert.Contains("rn.safetensors", e.Message);
            Assert.Contains("'visual.layer2.0.bn2.running_var'", e.Message);
        }
        finally
        {
            DisposeAll(checkpoint);
        }
    }

    [Fact]
    public void TheSwitchIsOffAgainAfterABuildThatThrows()
    {
        Assert.False(UninitializedWeights.Active);
        Assert.Throws<ArgumentException>(() => UninitializedWeights.Build<UNetModel>(() =>
        {
            Assert.True(UninitializedWeights.Active);
            throw new ArgumentException("a constructor that refuses its config");
        }));
        Assert.False(UninitializedWeights.Active);
    }

    [Fact]
    public void OnlyTheBuildingThreadSkipsInitialisation()
    {
        // Another thread building a model at the same time (a parallel test, a web request) keeps its random initialisation.
        Exception? failure = null;
        using var model = UninitializedWeights.Build(() =>
        {
            var other = new Thread(() =>
            {
                try
                {
                    Assert.False(UninitializedWeights.Active);
                    using var threadScope = torch.NewDisposeScope();
                    // PyTorch's Kaiming-uniform draw: within ±1/√64, spread like U(−0.125, 0.125) (std 0.072), not garbage or zeros.
                    using var linear = Layers.Linear(64, 64);
                    Assert.True(linear.weight.abs().max().item<float>() <= 0.125f);
                    Assert.InRange(linear.weight.std().item<float>(), 0.06f, 0.085f);
                }
                catch (Exception e) { failure = e; }
            });
            other.Start();
            other.Join();
            return new ClipModel(TinyConfigs.Vit);
        });
        Assert.Null(failure);
        Assert.All(model.parameters(), p => Assert.Equal(DeviceType.CPU, p.device_type));
    }
}
