using System.Text.Json.Nodes;
using SharpClip.Files;
using SharpClip.Generation.Description;
using SharpClip.Generation.Diffusion;
using SharpClip.Generation.Diffusion.Diffusers;
using SharpClip.Generation.Diffusion.Sampling;
using SharpClip.Modeling;
using SharpClip.Tests.Infrastructure;
using SharpClip.Text;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Diffusion;

/// <summary>
/// The Stable Diffusion checkpoints people have besides SD 1.x single files, against reference code
/// (tests/fixtures-generative/sd-formats/make_sd_format_fixtures.py): a diffusers folder laid out by diffusers' own
/// converter gives the single file's reference numbers; an SD 2.x-style file with OpenCLIP text keys gives
/// FrozenOpenCLIPEmbedder's states; DDIM with v-prediction follows Stability's sampler step for step; and a broken
/// folder fails with one message naming the file and the key.
/// </summary>
[Trait("Category", "Fidelity")]
public class StableDiffusionFormatTests(ITestOutputHelper output)
{
    static readonly Lazy<ClipTokenizer> Tokenizer = new(() => ClipTokenizer.Load(GenerativeFixtures.VocabPath));

    [Fact]
    public void DiffusersFolderGivesTheSingleFilesReferenceNumbers()
    {
        SdFormatFixtures.RequireSource();
        using var dir = new TempDir();
        var folder = SdFormatFixtures.WriteDiffusersFolder(dir);
        using var reference = new SdReference(SdFormatFixtures.SourceModel);
        using var pipeline = StableDiffusionPipeline.Load(folder);           // tokenizer/, configs: nothing given
        Assert.Equal("diffusers folder", pipeline.Checkpoint!.Format);
        Assert.Equal(Prediction.Epsilon, pipeline.Prediction);
        Assert.Contains("scheduler_config.json", pipeline.Checkpoint!.PredictionSource);
        var declared = reference.ManifestConfig();
        Assert.Equal(declared.UNet!.NumHeads, pipeline.UNet.Config.NumHeads);
        Assert.Equal(declared.Text, pipeline.TextEncoder.Config);
        using var scope = torch.NewDisposeScope();
        using (torch.inference_mode())
        {
            var text = reference.Case("text_states");
            var prompts = text.GetProperty("prompts").EnumerateArray().Select(p => p.GetString()!).ToArray();
            SdAssert.Exact(reference.Tensor("text_states", "input_ids"), pipeline.Tokenize(prompts), "input_ids (pad token from tokenizer/)");
            SdAssert.Close(reference.Tensor("text_states", "states"), pipeline.EncodePrompts(prompts), 1e-5, 0, "diffusers text states", output);
            var eps = pipeline.UNet.forward(reference.Tensor("unet_eps", "x"), reference.Tensor("unet_eps", "timesteps"), reference.Tensor("unet_eps", "context"));
            SdAssert.Close(reference.Tensor("unet_eps", "eps"), eps, 1e-4, 1e-4, "diffusers U-Net eps", output);
            SdAssert.Close(reference.Tensor("vae_decode", "image"), pipeline.Autoencoder.Decode(reference.Tensor("vae_decode", "latent")), 1e-4, 1e-4,
                "diffusers VAE decode", output);
        }
        var c = reference.Case("ddim_txt2img");
        var ddimPrompts = c.GetProperty("prompts").EnumerateArray().Select(p => p.GetString()!).ToArray();
        var shape = c.GetProperty("latent_shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        using var generated = pipeline.Generate(ddimPrompts, new GenerationOptions
        {
            NegativePrompt = c.GetProperty("negative_prompt").GetString()!, Steps = c.GetProperty("steps").GetInt32(),
            GuidanceScale = c.GetProperty("guidance_scale").GetDouble(), Eta = c.GetProperty("eta").GetDouble(),
            LatentHeight = shape[2], LatentWidth = shape[3], InitialNoise = reference.Tensor("ddim_txt2img", "x_T"),
        });
        SdAssert.Scaled(reference.Tensor("ddim_txt2img", "final_latent"), generated.Latents, 1e-4, 1e-4, "diffusers DDIM final latent", output);
        SdAssert.Close(reference.Tensor("ddim_txt2img", "decoded"), generated.Decoded, 1e-3, 0, "diffusers DDIM decoded", output);
    }

    [Fact]
    public void DiffusersSchedulerConfigDecidesThePredictionAndAnOptionOverridesIt()
    {
        SdFormatFixtures.RequireSource();
        using var dir = new TempDir();
        var folder = SdFormatFixtures.WriteDiffusersFolder(dir, editConfig: (component, config) =>
        {
            if (component == "scheduler") config["prediction_type"] = "v_prediction";
        });
        using (var checkpoint = StableDiffusionCheckpoint.Open(folder))
        {
            Assert.Equal(Prediction.V, checkpoint.Prediction);
            Assert.Contains("scheduler_config.json", checkpoint.PredictionSource);
        }
        using (var checkpoint = StableDiffusionCheckpoint.Open(folder, new StableDiffusionConfig { Prediction = Prediction.Epsilon }))
            Assert.Equal(Prediction.Epsilon, checkpoint.Prediction);
    }

    static Exception LoadError(string folder) => Assert.ThrowsAny<Exception>(() => StableDiffusionPipeline.Load(folder).Dispose());

    static void AssertNames(Exception e, string file, string key)
    {
        Assert.True(e is InvalidDataException, e.ToString());
        Assert.True(e.Message.Contains(file, StringComparison.Ordinal) && e.Message.Contains(key, StringComparison.Ordinal),
            $"expected the message to name {file} and {key}: {e.Message}");
    }

    [Fact]
    public void BrokenDiffusersFoldersFailNamingTheFileAndKey()
    {
        SdFormatFixtures.RequireSource();
        using var dir = new TempDir();
        string unetFile = Path.Combine("unet", "diffusion_pytorch_model.safetensors");

        const string missing = "down_blocks.0.resnets.0.conv1.weight";
        var folder = SdFormatFixtures.WriteDiffusersFolder(dir, (component, t) => { if (component == "unet") t.Remove(missing); });
        AssertNames(LoadError(folder), unetFile, $"'{missing}'");

        const string extra = "down_blocks.0.resnets.0.extra.weight";
        folder = SdFormatFixtures.WriteDiffusersFolder(dir, (component, t) => { if (component == "unet") t[extra] = torch.zeros(2); });
        AssertNames(LoadError(folder), unetFile, $"'{extra}'");

        const string fc1 = "text_model.encoder.layers.0.mlp.fc1.weight";
        folder = SdFormatFixtures.WriteDiffusersFolder(dir, (component, t) => { if (component == "text_encoder") t[fc1] = t[fc1].narrow(0, 0, 8); });
        var e = LoadError(folder);
        AssertNames(e, Path.Combine("text_encoder", "model.safetensors"), $"'{fc1}'");
        Assert.Contains("has shape [8,", e.Message);

        const string vaeAttention = "encoder.mid_block.attentions.0.to_q.weight";
        folder = SdFormatFixtures.WriteDiffusersFolder(dir, (component, t) => { if (component == "vae") t[vaeAttention] = t[vaeAttention].narrow(0, 0, 4); });
        AssertNames(LoadError(folder), Path.Combine("vae", "diffusion_pytorch_model.safetensors"), $"'{vaeAttention}'");

        folder = SdFormatFixtures.WriteDiffusersFolder(dir, editConfig: (component, c) => { if (component == "unet") c["attention_head_dim"] = "eight"; });
        AssertNames(LoadError(folder), Path.Combine("unet", "config.json"), "'attention_head_dim'");

        folder = SdFormatFixtures.WriteDiffusersFolder(dir, editConfig: (component, c) => { if (component == "scheduler") c["beta_schedule"] = "squaredcos_cap_v2"; });
        AssertNames(LoadError(folder), Path.Combine("scheduler", "scheduler_config.json"), "'beta_schedule'");

        // A config that contradicts the weights: the autoencoder's latent channels.
        folder = SdFormatFixtures.WriteDiffusersFolder(dir, editConfig: (component, c) => { if (component == "vae") c["latent_channels"] = 8; });
        e = LoadError(folder);
        Assert.IsType<InvalidDataException>(e);
        Assert.Contains(Path.Combine("vae", "config.json"), e.Message);

        // ... and the U-Net's blocks per level: the keys of the second block are missing, named as the folder spells them.
        folder = SdFormatFixtures.WriteDiffusersFolder(dir, editConfig: (component, c) => { if (component == "unet") c["layers_per_block"] = 2; });
        AssertNames(LoadError(folder), unetFile, "'down_blocks.0.resnets.1.");

        folder = SdFormatFixtures.WriteDiffusersFolder(dir);
        var vaeFile = Path.Combine(folder, "vae", "diffusion_pytorch_model.safetensors");
        var bytes = File.ReadAllBytes(vaeFile);
        File.WriteAllBytes(vaeFile, bytes[..(bytes.Length - 1000)]);
        e = LoadError(folder);
        Assert.IsType<InvalidDataException>(e);
        Assert.Contains(vaeFile, e.Message);
    }

    [Fact]
    public void Sd2FileWithOpenClipTextKeysGivesFrozenOpenClipEmbeddersStates()
    {
        SdFormatFixtures.RequireSource();
        using var dir = new TempDir();
        var path = SdFormatFixtures.WriteSd2File(dir);
        var sd2 = SdFormatFixtures.Manifest.GetProperty("sd2");
        using var reference = new SdReference(SdFormatFixtures.SourceModel);
        var config = reference.ManifestConfig() with { Text = null, TextHeads = sd2.GetProperty("text_heads").GetInt32() };
        using var pipeline = StableDiffusionPipeline.Load(path, Tokenizer.Value, config);
        Assert.True(pipeline.Checkpoint!.OpenClipText);
        Assert.Equal(Activation.Gelu, pipeline.TextEncoder.Config.Activation);
        Assert.Equal(2, pipeline.Checkpoint!.DefaultClipSkip);
        Assert.Equal(0, pipeline.PadId);
        Assert.Contains("cond_stage_model.model.text_projection", pipeline.Checkpoint.IgnoredKeys);
        using var outputs = SdFormatFixtures.Outputs();
        using var scope = torch.NewDisposeScope();
        using var _ = torch.inference_mode();
        var prompts = sd2.GetProperty("prompts").EnumerateArray().Select(p => p.GetString()!).ToArray();
        var ids = pipeline.Tokenize(prompts);
        SdAssert.Exact(outputs.ReadTensor("sd2.input_ids"), ids, "SD 2.x input_ids (open_clip pads with 0)");
        SdAssert.Close(outputs.ReadTensor("sd2.states_penultimate"), pipeline.EncodePrompts(prompts), 1e-5, 0, "SD 2.x penultimate states", output);
        SdAssert.Close(outputs.ReadTensor("sd2.states_last"), pipeline.TextEncoder.Encode(ids, 1), 1e-5, 0, "SD 2.x last-layer states", output);
    }

    [Fact]
    public void Sd2FileWithABrokenTextKeyFailsNamingIt()
    {
        SdFormatFixtures.RequireSource();
        using var dir = new TempDir();
        using var reference = new SdReference(SdFormatFixtures.SourceModel);
        const string inProj = "cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight";
        var path = SdFormatFixtures.WriteSd2File(dir, t => t[inProj] = t[inProj].narrow(0, 0, 10));
        var e = Assert.ThrowsAny<Exception>(() => StableDiffusionPipeline.Load(path, Tokenizer.Value, reference.ManifestConfig() with { Text = null }).Dispose());
        AssertNames(e, path, $"'{inProj}'");
        path = SdFormatFixtures.WriteSd2File(dir, t => t.Remove("cond_stage_model.model.ln_final.weight"));
        e = Assert.ThrowsAny<Exception>(() => StableDiffusionPipeline.Load(path, Tokenizer.Value, reference.ManifestConfig() with { Text = null }).Dispose());
        AssertNames(e, path, "'cond_stage_model.model.ln_final.weight'");
    }

    [Theory]
    [InlineData("v", Prediction.V)]
    [InlineData("eps", Prediction.Epsilon)]
    public void DdimFollowsStabilitysSamplerForBothPredictions(string kind, Prediction prediction)
    {
        SdFormatFixtures.RequireSource();
        using var outputs = SdFormatFixtures.Outputs();
        var c = SdFormatFixtures.Manifest.GetProperty("v_prediction");
        using var reference = new SdReference(SdFormatFixtures.SourceModel);
        var ld = reference.Config.GetProperty("latent_diffusion");
        var trainSchedule = NoiseSchedule.Linear(ld.GetProperty("linear_start").GetDouble(), ld.GetProperty("linear_end").GetDouble(), ld.GetProperty("timesteps").GetInt32());
        using var scope = torch.NewDisposeScope();
        SdAssert.Close(outputs.ReadTensor($"{kind}.sqrt_alphas_cumprod"), torch.tensor(trainSchedule.SqrtAlphasCumprod), 0, 0, $"{kind} sqrt_alphas_cumprod", output);
        Tensor weight = outputs.ReadTensor("v.weight"), bias = outputs.ReadTensor("v.bias");
        // The script's noise model: conv1x1(x)·t/1000 + bias + mean(context).
        NoisePredictor model = (x, t, ctx) => nn.functional.conv2d(x, weight).mul(t.to(ScalarType.Float32).div(1000).view(-1, 1, 1, 1))
            .add(bias.view(1, -1, 1, 1)).add(ctx.mean([1, 2]).view(-1, 1, 1, 1));
        var schedule = DdimSchedule.Uniform(trainSchedule, c.GetProperty("steps").GetInt32());
        var latents = new List<Tensor>();
        var predX0 = new List<Tensor>();
        using var final = DdimSampler.Sample(model, outputs.ReadTensor("v.x_T"), outputs.ReadTensor("v.cond"), outputs.ReadTensor("v.uncond"),
            c.GetProperty("guidance_scale").GetDouble(), schedule, onStep: s => { latents.Add(s.Latent.clone()); predX0.Add(s.PredictedX0.clone()); },
            prediction: prediction);
        SdAssert.Close(outputs.ReadTensor($"{kind}.pred_x0"), torch.stack(predX0), 1e-5, 1e-5, $"{kind} DDIM pred_x0 per step", output);
        SdAssert.Close(outputs.ReadTensor($"{kind}.latents"), torch.stack(latents), 1e-5, 1e-5, $"{kind} DDIM latents per step", output);
        SdAssert.Close(outputs.ReadTensor($"{kind}.final"), final, 1e-5, 1e-5, $"{kind} DDIM final latent", output);
    }

    [Theory]
    [InlineData(KSamplerKind.Euler)]
    [InlineData(KSamplerKind.DpmPlusPlus2M)]
    public void KarrasSamplersTurnVIntoTheDenoisedLatentAsCompVisVDenoiser(KSamplerKind kind)
    {
        // One step to σ = 0 returns the denoised estimate itself: c_skip·x + c_out·v with x = σ₀·noise,
        // c_skip = 1/(σ₀²+1), c_out = −σ₀/√(σ₀²+1) (k-diffusion's CompVisVDenoiser, σ_data = 1).
        using var scope = torch.NewDisposeScope();
        var schedule = NoiseSchedule.StableDiffusion;
        var generator = new Generator(7);
        var noise = torch.randn([1, 4, 3, 3], generator: generator);
        var v = torch.randn([1, 4, 3, 3], generator: generator);
        var cond = torch.zeros(1, 2, 8);
        const double sigma0 = 3.5;
        using var result = KarrasSampler.Sample((x, t, c) => v.expand(x.shape).clone(), noise, cond, null, 1.0, schedule, [sigma0, 0.0], kind,
            prediction: Prediction.V);
        var x0 = noise.to(ScalarType.Float64).mul(sigma0);
        var expected = x0.div(sigma0 * sigma0 + 1).sub(v.to(ScalarType.Float64).mul(sigma0 / Math.Sqrt(sigma0 * sigma0 + 1)));
        SdAssert.Close(expected, result, 1e-5, 1e-5, $"{kind} v denoised", output);
    }

    [Fact]
    public void ConvertWritesDiffusersOwnLayoutThatReadsBackToTheSameNumbers()
    {
        SdFormatFixtures.RequireSource();
        using var dir = new TempDir();
        using var reference = new SdReference(SdFormatFixtures.SourceModel);
        var folder = dir.File("converted");
        using (var single = StableDiffusionCheckpoint.Open(reference.WeightsPath, reference.ManifestConfig()))
            DiffusersFolderWriter.Write(single, folder, GenerativeFixtures.VocabPath, overwrite: false);
        // Names and shapes exactly as diffusers' converter lays the same checkpoint out.
        var map = SdFormatFixtures.Manifest.GetProperty("diffusers");
        foreach (var (component, file) in new[] { ("unet", "diffusion_pytorch_model.safetensors"), ("vae", "diffusion_pytorch_model.safetensors") })
        {
            using var written = SafeTensorsFile.Open(Path.Combine(folder, component, file));
            var expected = map.GetProperty(component).GetProperty("keys").EnumerateObject()
                .ToDictionary(e => e.Name, e => string.Join(",", e.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())));
            var actual = written.Tensors.ToDictionary(t => t.Name, t => string.Join(",", t.Shape));
            Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        }
        using var pipeline = StableDiffusionPipeline.Load(folder);
        using var scope = torch.NewDisposeScope();
        using var _ = torch.inference_mode();
        var eps = pipeline.UNet.forward(reference.Tensor("unet_eps", "x"), reference.Tensor("unet_eps", "timesteps"), reference.Tensor("unet_eps", "context"));
        SdAssert.Close(reference.Tensor("unet_eps", "eps"), eps, 1e-4, 1e-4, "converted folder U-Net eps", output);
        var prompts = reference.Case("text_states").GetProperty("prompts").EnumerateArray().Select(p => p.GetString()!).ToArray();
        SdAssert.Close(reference.Tensor("text_states", "states"), pipeline.EncodePrompts(prompts), 1e-5, 0, "converted folder text states", output);
        var info = GenerativeModelDescription.Describe(folder)!;
        Assert.Equal("diffusers folder", info.Format);
        Assert.StartsWith("epsilon", (string)info.Settings["prediction"]!);
    }

    [Fact]
    public void ConvertedSd2FileKeepsThePenultimateStatesPaddingAndPrediction()
    {
        SdFormatFixtures.RequireSource();
        using var dir = new TempDir();
        var path = SdFormatFixtures.WriteSd2File(dir);
        var sd2 = SdFormatFixtures.Manifest.GetProperty("sd2");
        using var reference = new SdReference(SdFormatFixtures.SourceModel);
        var config = reference.ManifestConfig() with { Text = null, TextHeads = sd2.GetProperty("text_heads").GetInt32(), Prediction = Prediction.V };
        var info = GenerativeModelDescription.Describe(path)!;
        Assert.Contains("OpenCLIP", (string)info.Settings["text_tower"]!);
        var folder = dir.File("converted");
        using (var single = StableDiffusionCheckpoint.Open(path, config))
            DiffusersFolderWriter.Write(single, folder, GenerativeFixtures.VocabPath, overwrite: false);
        using var pipeline = StableDiffusionPipeline.Load(folder);
        Assert.Equal(Prediction.V, pipeline.Prediction);
        Assert.Equal(0, pipeline.PadId);
        Assert.Equal(1, pipeline.Checkpoint!.DefaultClipSkip);
        using var outputs = SdFormatFixtures.Outputs();
        using var scope = torch.NewDisposeScope();
        var prompts = sd2.GetProperty("prompts").EnumerateArray().Select(p => p.GetString()!).ToArray();
        SdAssert.Close(outputs.ReadTensor("sd2.states_penultimate"), pipeline.EncodePrompts(prompts), 1e-5, 0, "converted SD 2.x states", output);
    }
}
