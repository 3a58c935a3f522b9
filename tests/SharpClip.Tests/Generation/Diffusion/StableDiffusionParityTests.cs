using SharpClip.Generation.Diffusion;
using SharpClip.Generation.Diffusion.Sampling;
using SharpClip.Generation.Diffusion.UNet;
using SharpClip.Tests.Infrastructure;
using SharpClip.Text;
using SharpClip.Vision;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Diffusion;

/// <summary>
/// Stable Diffusion v1 against CompVis/stable-diffusion's own outputs (the generative fixture manifest; any set of the
/// same schema runs): the schedule and DDIM tables, the text states with both paddings, the U-Net's ε and its
/// timestep embedding, and a whole guided DDIM run fed the reference's x_T, step by step. The weights are loaded from
/// the single-file checkpoint with the architecture inferred from it; only the heads come from the manifest.
/// </summary>
[Trait("Category", "Fidelity")]
public class StableDiffusionParityTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Models => GenerativeFixtures.StableDiffusionModelIds();
    public static IEnumerable<object[]> ScheduleCases => GenerativeFixtures.StableDiffusionCases("schedule");
    public static IEnumerable<object[]> TextCases => GenerativeFixtures.StableDiffusionCases("text_states");
    public static IEnumerable<object[]> UNetCases => GenerativeFixtures.StableDiffusionCases("unet_eps");
    public static IEnumerable<object[]> DdimCases => GenerativeFixtures.StableDiffusionCases("ddim_txt2img");

    static readonly Lazy<ClipTokenizer> Tokenizer = new(() => ClipTokenizer.Load(GenerativeFixtures.VocabPath));

    internal static StableDiffusionPipeline LoadPipeline(SdReference reference) =>
        StableDiffusionPipeline.Load(reference.WeightsPath, Tokenizer.Value, reference.ManifestConfig() with { UNet = null, Text = null,
            NumHeads = Heads(reference).NumHeads, NumHeadChannels = Heads(reference).NumHeadChannels,
            TextHeads = reference.Config.GetProperty("text").GetProperty("num_attention_heads").GetInt32() });

    static (int? NumHeads, int? NumHeadChannels) Heads(SdReference reference)
    {
        var unet = reference.Config.GetProperty("unet");
        int heads = unet.GetProperty("num_heads").GetInt32(), headChannels = unet.GetProperty("num_head_channels").GetInt32();
        return headChannels == -1 ? (heads, null) : (null, headChannels);
    }

    [Theory, MemberData(nameof(Models))]
    public void ArchitectureInferredFromTheWeightsIsTheReferences(string id)
    {
        using var reference = new SdReference(id);
        var declared = reference.ManifestConfig();
        using var pipeline = LoadPipeline(reference);
        var inferred = pipeline.Checkpoint!.UNetConfig;
        var expected = declared.UNet!;
        // attention_resolutions may list factors no level reaches; only reachable ones shape the network.
        int deepest = 1 << (expected.ChannelMult.Count - 1);
        expected = expected with { AttentionResolutions = [.. expected.AttentionResolutions.Where(r => r <= deepest)] };
        Assert.True(expected.SameAs(inferred), $"inferred {inferred}, manifest {expected}");
        Assert.Equal(declared.Text, pipeline.TextEncoder.Config);
        var counts = reference.Entry.GetProperty("param_count");
        Assert.Equal(counts.GetProperty("unet").GetInt64(), pipeline.UNet.ParameterCount);
        Assert.Equal(counts.GetProperty("text").GetInt64(), pipeline.TextEncoder.parameters().Sum(p => p.numel()));
        Assert.Equal(reference.Config.GetProperty("latent_diffusion").GetProperty("scale_factor").GetDouble(), pipeline.Checkpoint!.ScaleFactor);
        Assert.Equal(reference.Config.GetProperty("vae").GetProperty("downsample_factor").GetInt32(), pipeline.Checkpoint!.AutoencoderDownsampleFactor);
    }

    [Theory, MemberData(nameof(ScheduleCases))]
    public void ScheduleAndDdimTablesMatch(string id, string caseId)
    {
        using var reference = new SdReference(id);
        var c = reference.Case(caseId);
        var schedule = NoiseSchedule.Linear(c.GetProperty("linear_start").GetDouble(), c.GetProperty("linear_end").GetDouble(),
            c.GetProperty("timesteps").GetInt32());
        using var scope = torch.NewDisposeScope();
        SdAssert.Close(reference.Tensor(caseId, "betas_f64"), torch.tensor(schedule.Betas64.ToArray()), 0, 1e-12, $"{id} betas_f64", output);
        SdAssert.Close(reference.Tensor(caseId, "alphas_cumprod_f64"), torch.tensor(schedule.AlphasCumprod64.ToArray()), 0, 1e-12, $"{id} alphas_cumprod_f64", output);
        SdAssert.Close(reference.Tensor(caseId, "betas"), torch.tensor(schedule.Betas), 1e-5, 0, $"{id} betas", output);
        SdAssert.Close(reference.Tensor(caseId, "alphas_cumprod"), torch.tensor(schedule.AlphasCumprod.ToArray()), 1e-5, 0, $"{id} alphas_cumprod", output);
        SdAssert.Close(reference.Tensor(caseId, "alphas_cumprod_prev"), torch.tensor(schedule.AlphasCumprodPrev), 1e-5, 0, $"{id} alphas_cumprod_prev", output);
        foreach (var steps in c.GetProperty("ddim_table_steps").EnumerateArray().Select(s => s.GetInt32()))
            SdAssert.Exact(reference.Tensor(caseId, $"ddim_timesteps_S{steps}"), torch.tensor(DdimSchedule.UniformTimesteps(steps, schedule.Timesteps)),
                $"{id} ddim_timesteps_S{steps}");

        // The checkpoint's schedule is the one the sampler uses: the file's buffer equals the computed one.
        using var checkpoint = StableDiffusionCheckpoint.Open(reference.WeightsPath, reference.ManifestConfig());
        SdAssert.Close(reference.Tensor(caseId, "alphas_cumprod"), torch.tensor(checkpoint.Schedule.AlphasCumprod.ToArray()), 1e-5, 0, $"{id} checkpoint schedule", output);
    }

    [Theory, MemberData(nameof(TextCases))]
    public void TextStatesMatchWithBothPaddings(string id, string caseId)
    {
        using var reference = new SdReference(id);
        using var pipeline = LoadPipeline(reference);
        var prompts = reference.Case(caseId).GetProperty("prompts").EnumerateArray().Select(p => p.GetString()!).ToArray();
        using var scope = torch.NewDisposeScope();
        using var _ = torch.inference_mode();

        var ids = pipeline.Tokenize(prompts);
        SdAssert.Exact(reference.Tensor(caseId, "input_ids"), ids, $"{id} input_ids (padded with end-of-text)");
        SdAssert.Close(reference.Tensor(caseId, "states"), pipeline.TextEncoder.Encode(ids), 1e-5, 0, $"{id} states", output);

        var zeroPadded = Tokenizer.Value.Tokenize(prompts, pipeline.TextEncoder.Config.ContextLength, truncate: true);
        SdAssert.Exact(reference.Tensor(caseId, "input_ids_pad_zero"), zeroPadded, $"{id} input_ids_pad_zero");
        SdAssert.Close(reference.Tensor(caseId, "states_pad_zero"), pipeline.TextEncoder.Encode(zeroPadded), 1e-5, 0, $"{id} states_pad_zero", output);
    }

    [Theory, MemberData(nameof(UNetCases))]
    public void UNetNoisePredictionMatches(string id, string caseId)
    {
        using var reference = new SdReference(id);
        using var pipeline = LoadPipeline(reference);
        using var scope = torch.NewDisposeScope();
        using var _ = torch.inference_mode();
        var timesteps = reference.Tensor(caseId, "timesteps");
        SdAssert.Close(reference.Tensor(caseId, "timestep_embedding"),
            TimestepEmbedding.Sinusoidal(timesteps, pipeline.UNet.Config.ModelChannels), 1e-4, 0, $"{id} timestep_embedding", output);
        SdAssert.Close(reference.Tensor(caseId, "time_embed"), pipeline.UNet.TimeEmbedding(timesteps), 1e-4, 0, $"{id} time_embed", output);
        var eps = pipeline.UNet.forward(reference.Tensor(caseId, "x"), timesteps, reference.Tensor(caseId, "context"));
        SdAssert.Close(reference.Tensor(caseId, "eps"), eps, 1e-4, 1e-4, $"{id} eps", output);
    }

    [Theory, MemberData(nameof(DdimCases))]
    public void GuidedDdimRunMatchesStepByStep(string id, string caseId)
    {
        using var reference = new SdReference(id);
        using var pipeline = LoadPipeline(reference);
        var c = reference.Case(caseId);
        var prompts = c.GetProperty("prompts").EnumerateArray().Select(p => p.GetString()!).ToArray();
        string negative = c.GetProperty("negative_prompt").GetString()!;
        int steps = c.GetProperty("steps").GetInt32();
        double eta = c.GetProperty("eta").GetDouble(), scale = c.GetProperty("guidance_scale").GetDouble();
        Assert.Equal("uniform", c.GetProperty("ddim_discretize").GetString());
        using var scope = torch.NewDisposeScope();

        // Tokens and text states, ours from the prompts.
        var negatives = Enumerable.Repeat(negative, prompts.Length).ToArray();
        SdAssert.Exact(reference.Tensor(caseId, "input_ids"), pipeline.Tokenize(prompts), $"{id} input_ids");
        SdAssert.Exact(reference.Tensor(caseId, "uncond_input_ids"), pipeline.Tokenize(negatives), $"{id} uncond_input_ids");
        SdAssert.Close(reference.Tensor(caseId, "cond"), pipeline.EncodePrompts(prompts), 1e-5, 0, $"{id} cond", output);
        SdAssert.Close(reference.Tensor(caseId, "uncond"), pipeline.EncodePrompts(negatives), 1e-5, 0, $"{id} uncond", output);

        // The DDIM tables, in the order run (descending), entry i belonging to step i.
        var schedule = DdimSchedule.Uniform(pipeline.Schedule, steps, eta);
        SdAssert.Exact(reference.Tensor(caseId, "ddim_timesteps"), torch.tensor(schedule.Timesteps.ToArray()), $"{id} ddim_timesteps");
        var order = Enumerable.Range(0, schedule.Count).Reverse().ToArray();
        SdAssert.Exact(reference.Tensor(caseId, "timesteps"), torch.tensor(order.Select(i => schedule.Timesteps[i]).ToArray()), $"{id} timesteps");
        SdAssert.Close(reference.Tensor(caseId, "alphas"), torch.tensor(order.Select(i => schedule.Alphas[i]).ToArray()), 0, 0, $"{id} alphas", output);
        SdAssert.Close(reference.Tensor(caseId, "alphas_prev"), torch.tensor(order.Select(i => schedule.AlphasPrev[i]).ToArray()), 0, 0, $"{id} alphas_prev", output);
        SdAssert.Close(reference.Tensor(caseId, "sigmas"), torch.tensor(order.Select(i => schedule.Sigmas[i]).ToArray()), 0, 0, $"{id} sigmas", output);
        SdAssert.Close(reference.Tensor(caseId, "sqrt_one_minus_alphas"), torch.tensor(order.Select(i => schedule.SqrtOneMinusAlphas[i]).ToArray()),
            0, 0, $"{id} sqrt_one_minus_alphas", output);

        // The whole run through the pipeline, from the reference's x_T to the images; every step recorded.
        var xT = reference.Tensor(caseId, "x_T");
        var latentShape = c.GetProperty("latent_shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        var recorded = new List<(Tensor Uncond, Tensor Cond, Tensor PredX0, Tensor Latent)>();
        using var generated = pipeline.Generate(prompts, new GenerationOptions
        {
            NegativePrompt = negative, Steps = steps, GuidanceScale = scale, Eta = eta,
            LatentHeight = latentShape[2], LatentWidth = latentShape[3], InitialNoise = xT,
            OnStep = s => recorded.Add((s.EpsUncond!.clone(), s.EpsCond.clone(), s.PredictedX0.clone(), s.Latent.clone())),
        });
        var final = generated.Latents;
        Assert.Equal(schedule.Count, recorded.Count);
        var modelInput = reference.Tensor(caseId, "step_model_input");
        var refUncond = reference.Tensor(caseId, "step_eps_uncond");
        var refCond = reference.Tensor(caseId, "step_eps_cond");
        var refPredX0 = reference.Tensor(caseId, "step_pred_x0");
        var refLatents = reference.Tensor(caseId, "step_latents");
        long batch = xT.shape[0];
        for (int i = 0; i < recorded.Count; i++)
        {
            var input = i == 0 ? xT : recorded[i - 1].Latent;
            SdAssert.Scaled(modelInput[i].narrow(0, 0, batch), input, 1e-4, 1e-4, $"{id} step {i} model input", output);
            SdAssert.Scaled(refUncond[i], recorded[i].Uncond, 1e-4, 1e-4, $"{id} step {i} eps_uncond", output);
            SdAssert.Scaled(refCond[i], recorded[i].Cond, 1e-4, 1e-4, $"{id} step {i} eps_cond", output);
            SdAssert.Scaled(refPredX0[i], recorded[i].PredX0, 1e-4, 1e-4, $"{id} step {i} pred_x0", output);
            SdAssert.Scaled(refLatents[i], recorded[i].Latent, 1e-4, 1e-4, $"{id} step {i} latent", output);
        }
        SdAssert.Scaled(reference.Tensor(caseId, "final_latent"), final, 1e-4, 1e-4, $"{id} final_latent", output);

        // The pipeline's own decode of its own latents, against the reference's decode of the reference's latents.
        SdAssert.Close(reference.Tensor(caseId, "decoded"), generated.Decoded, 1e-3, 0, $"{id} decoded", output);
        SdAssert.Close(reference.Tensor(caseId, "image_01"), SignedImageTensors.ToUnitHwc(generated.Decoded), 1e-3, 0, $"{id} image_01", output);
        var expectedBytes = reference.Tensor(caseId, "image_uint8");
        Assert.Equal(expectedBytes.shape[0], generated.Images.Count);
        var ours = torch.stack(generated.Images.Select(img => torch.tensor(img.Pixels, [img.Height, img.Width, 3])).ToArray()); // [B, h, w, 3] uint8
        double levels = SdAssert.Close(expectedBytes.to(ScalarType.Int32), ours.to(ScalarType.Int32), 1, 0, $"{id} image_uint8 (levels)", output);
        output.WriteLine($"{id} image_uint8: {ours.ne(expectedBytes).sum().item<long>()} of {ours.numel()} bytes differ, by at most {levels} level(s)");
    }
}
