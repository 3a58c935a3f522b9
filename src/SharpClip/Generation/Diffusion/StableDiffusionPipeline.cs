using SharpClip.Generation.Diffusion.Conditioning;
using SharpClip.Generation.Diffusion.Sampling;
using SharpClip.Generation.Diffusion.UNet;
using SharpClip.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion;

/// <summary>Which sampler turns noise into a latent.</summary>
public enum DiffusionSampler { Ddim, Euler, EulerAncestral, DpmPlusPlus2M }

/// <summary>Options of one <see cref="StableDiffusionPipeline.GenerateLatents"/> call.</summary>
public sealed record GenerationOptions
{
    /// <summary>What the image should not be; "" is SD's unconditional prompt.</summary>
    public string NegativePrompt { get; init; } = "";
    /// <summary>The sampler: DDIM (the reference's) or a k-diffusion one.</summary>
    public DiffusionSampler Sampler { get; init; } = DiffusionSampler.Ddim;
    /// <summary>For the k-diffusion samplers: Karras et al.'s σ spacing (ρ = 7) instead of uniform timesteps.</summary>
    public bool KarrasSigmas { get; init; } = true;
    /// <summary>Requested DDIM steps (the uniform spacing may run a few more, as the reference does).</summary>
    public int Steps { get; init; } = 50;
    /// <summary>Classifier-free guidance scale; 1 turns guidance off (one U-Net call per step instead of a batch of two).</summary>
    public double GuidanceScale { get; init; } = 7.5;
    /// <summary>DDIM η: 0 is deterministic.</summary>
    public double Eta { get; init; }
    /// <summary>Seed of the initial noise (and of η noise); the same seed, prompt and options give the same latents.</summary>
    public long Seed { get; init; }
    /// <summary>Latent height and width (image size / the autoencoder's factor; 64×64 for 512×512 in SD v1).</summary>
    public int LatentHeight { get; init; } = 64;
    public int LatentWidth { get; init; } = 64;
    /// <summary>1 conditions on the last text layer (SD 1.x); 2 on the penultimate (SD 2.x, "clip skip").</summary>
    public int ClipSkip { get; init; } = 1;
    /// <summary>[batch, C, H, W] initial noise to use instead of drawing it from <see cref="Seed"/>.</summary>
    public Tensor? InitialNoise { get; init; }
    /// <summary>Called after each step (progress bars, previews); its tensors are freed when it returns.</summary>
    public Action<SamplerStep>? OnStep { get; init; }
}

/// <summary>
/// Text to image with a Stable Diffusion 1.x checkpoint: tokenise (padding with the end-of-text id, as SD's tokenizer
/// does), encode the prompt and the negative prompt into per-token states, and run DDIM (the reference's) or a
/// k-diffusion sampler (Euler, Euler ancestral, DPM++ 2M, Karras σ by default) with classifier-free guidance from
/// seeded noise. Today it returns the final latents; decoding them to pixels is the autoencoder's job (see
/// <see cref="GenerateLatents"/>).
/// </summary>
public sealed class StableDiffusionPipeline : IDisposable
{
    StableDiffusionPipeline(StableDiffusionCheckpoint checkpoint, UNetModel unet, ConditioningTextEncoder text, ClipTokenizer tokenizer)
    {
        Checkpoint = checkpoint;
        UNet = unet;
        TextEncoder = text;
        Tokenizer = tokenizer;
    }

    /// <summary>The checkpoint the models came from (its schedule, scale factor, architecture).</summary>
    public StableDiffusionCheckpoint Checkpoint { get; }

    public UNetModel UNet { get; }

    public ConditioningTextEncoder TextEncoder { get; }

    public ClipTokenizer Tokenizer { get; }

    /// <summary>The training noise schedule.</summary>
    public NoiseSchedule Schedule => Checkpoint.Schedule;

    /// <summary>
    /// Loads a checkpoint's U-Net and text encoder (the autoencoder's weights stay in the file until decoding).
    /// </summary>
    /// <param name="path">An SD 1.x single-file <c>.safetensors</c> or <c>.ckpt</c>.</param>
    /// <param name="tokenizer">CLIP's tokenizer (OpenAI's vocabulary); null uses <see cref="ClipTokenizer.FindDefaultVocab"/>.</param>
    /// <param name="config">What the weights do not say (heads, schedule); null for SD v1's values.</param>
    /// <param name="cancellationToken">Checked while reading.</param>
    public static StableDiffusionPipeline Load(string path, ClipTokenizer? tokenizer = null, StableDiffusionConfig? config = null,
        CancellationToken cancellationToken = default)
    {
        tokenizer ??= ClipTokenizer.FindDefaultVocab() is { } vocab ? ClipTokenizer.Load(vocab)
            : throw new FileNotFoundException($"no CLIP vocabulary found for {path}: set ${ClipTokenizer.VocabEnvironmentVariable} or pass a tokenizer");
        var checkpoint = StableDiffusionCheckpoint.Open(path, config, cancellationToken);
        UNetModel? unet = null;
        try
        {
            unet = checkpoint.LoadUNet();
            cancellationToken.ThrowIfCancellationRequested();
            var text = checkpoint.LoadTextEncoder();
            if (tokenizer.VocabSize != text.Config.VocabSize)
                throw new InvalidDataException($"{path}: the text encoder has {text.Config.VocabSize} token embeddings but the tokenizer {tokenizer.VocabSize} ids");
            return new StableDiffusionPipeline(checkpoint, unet, text, tokenizer);
        }
        catch
        {
            unet?.Dispose();
            checkpoint.Dispose();
            throw;
        }
    }

    /// <summary>SD v1 token ids: start, BPE ids (truncated to fit), end, then end-of-text padding.</summary>
    /// <returns>[prompts, context] int64</returns>
    public Tensor Tokenize(IReadOnlyList<string> prompts) =>
        Tokenizer.Tokenize(prompts, TextEncoder.Config.ContextLength, truncate: true, padId: Tokenizer.EndOfText);

    /// <summary>The per-token states the U-Net cross-attends to.</summary>
    /// <returns>[prompts, context, width]</returns>
    public Tensor EncodePrompts(IReadOnlyList<string> prompts, int clipSkip = 1)
    {
        using var _ = torch.inference_mode();
        using var ids = Tokenize(prompts);
        return TextEncoder.Encode(ids, clipSkip);
    }

    /// <summary>
    /// Runs the chosen sampler with classifier-free guidance for each prompt and returns the final latents, [prompts, C, H, W]
    /// (divide by <see cref="StableDiffusionCheckpoint.ScaleFactor"/> inside the autoencoder's decode).
    /// </summary>
    public Tensor GenerateLatents(IReadOnlyList<string> prompts, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new GenerationOptions();
        if (prompts.Count == 0) throw new ArgumentException("no prompts", nameof(prompts));
        using var _ = torch.inference_mode();
        var schedule = options.Sampler == DiffusionSampler.Ddim ? DdimSchedule.Uniform(Schedule, options.Steps, options.Eta) : null;
        long[] shape = [prompts.Count, UNet.Config.InChannels, options.LatentHeight, options.LatentWidth];
        if (options.InitialNoise is { } given && !given.shape.SequenceEqual(shape))
            throw new ArgumentException($"initial noise [{string.Join(",", given.shape)}] must be [{string.Join(",", shape)}]", nameof(options));
        using var generator = new Generator((ulong)options.Seed);
        // Explicit disposal rather than a dispose scope around the run: what the step callback keeps (clones) must
        // outlive this call, in the caller's scope.
        Tensor? cond = null, uncond = null, xT = null;
        try
        {
            cond = EncodePrompts(prompts, options.ClipSkip);                                         // [batch, 77, D]
            if (options.GuidanceScale != 1.0)
                uncond = EncodePrompts(Enumerable.Repeat(options.NegativePrompt, prompts.Count).ToArray(), options.ClipSkip);
            xT = options.InitialNoise?.to(ScalarType.Float32) ?? torch.randn(shape, dtype: ScalarType.Float32, generator: generator);
            NoisePredictor model = (x, t, c) => UNet.forward(x, t, c);
            var latents = options.Sampler == DiffusionSampler.Ddim
                ? DdimSampler.Sample(model, xT, cond, uncond, options.GuidanceScale, schedule!, generator, options.OnStep, cancellationToken)
                : KarrasSampler.Sample(model, xT, cond, uncond, options.GuidanceScale, Schedule, Sigmas(options), options.Sampler switch
                {
                    DiffusionSampler.Euler => KSamplerKind.Euler,
                    DiffusionSampler.EulerAncestral => KSamplerKind.EulerAncestral,
                    _ => KSamplerKind.DpmPlusPlus2M,
                }, generator, options.OnStep, cancellationToken);
            // ---- VAE DECODE GOES HERE (merger): AutoencoderKL.Decode(latents) applies 1/ScaleFactor itself; then
            // clamp((x + 1) / 2, 0, 1), HWC, 255·x truncated to uint8 (scripts/txt2img.py) for the images.
            return latents;
        }
        finally
        {
            cond?.Dispose();
            uncond?.Dispose();
            xT?.Dispose();
        }
    }

    double[] Sigmas(GenerationOptions options)
    {
        var model = KarrasSampler.ModelSigmas(Schedule);
        return options.KarrasSigmas ? KarrasSampler.KarrasSigmas(options.Steps, model[0], model[^1]) : KarrasSampler.DiscreteSigmas(Schedule, options.Steps);
    }

    public void Dispose()
    {
        UNet.Dispose();
        TextEncoder.Dispose();
        Checkpoint.Dispose();
    }
}
