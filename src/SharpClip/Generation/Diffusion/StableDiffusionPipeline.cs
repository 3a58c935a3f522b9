using SharpClip.Generation.Diffusion.Autoencoder;
using SharpClip.Generation.Diffusion.Conditioning;
using SharpClip.Generation.Diffusion.Sampling;
using SharpClip.Generation.Diffusion.UNet;
using SharpClip.Text;
using SharpClip.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion;

/// <summary>Which sampler turns noise into a latent.</summary>
public enum DiffusionSampler { Ddim, Euler, EulerAncestral, DpmPlusPlus2M }

/// <summary>Options of one <see cref="StableDiffusionPipeline.Generate"/> or <see cref="StableDiffusionPipeline.GenerateLatents"/> call.</summary>
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
    /// <summary>
    /// Seed of the first image: image i of the batch uses <c>Seed + i</c> for all its noise (initial noise, the
    /// autoencoder's sample and the img2img noise, η or ancestral noise), so it is the same image as a run of one
    /// with seed <c>Seed + i</c>.
    /// </summary>
    public long Seed { get; init; }
    /// <summary>Latent height and width (image size / the autoencoder's factor; 64×64 for 512×512 in SD v1). Ignored with <see cref="InitImage"/>.</summary>
    public int LatentHeight { get; init; } = 64;
    public int LatentWidth { get; init; } = 64;
    /// <summary>
    /// 1 conditions on the last text layer, 2 on the penultimate ("clip skip"); null takes the checkpoint's convention
    /// (<see cref="StableDiffusionCheckpoint.DefaultClipSkip"/>: 2 for an SD 2.x single file, else 1).
    /// </summary>
    public int? ClipSkip { get; init; }
    /// <summary>[batch, C, H, W] initial noise to use instead of drawing it from <see cref="Seed"/>.</summary>
    public Tensor? InitialNoise { get; init; }
    /// <summary>
    /// img2img: the image to start from (its size, a multiple of the autoencoder's factor, sets the latent size). It is
    /// encoded with a posterior sample, noised to the level <see cref="Strength"/> selects, and denoised from there.
    /// </summary>
    public RgbImage? InitImage { get; init; }
    /// <summary>
    /// img2img: how much of the schedule to rerun, in (0, 1]: <c>t_enc = ⌊strength · steps⌋</c> steps (at least 1)
    /// as CompVis's img2img.py; 1 keeps nothing of the image but its colours' rough layout.
    /// </summary>
    public double Strength { get; init; } = 0.75;
    /// <summary>Called after each step (progress bars, previews); its tensors are freed when it returns.</summary>
    public Action<SamplerStep>? OnStep { get; init; }
}

/// <summary>
/// What <see cref="StableDiffusionPipeline.Generate"/> made: the final latents, the decoded images as tensors and as
/// RGB images, and each image's seed. Owns its tensors; dispose it.
/// </summary>
public sealed class StableDiffusionOutput : IDisposable
{
    internal StableDiffusionOutput(Tensor latents, Tensor decoded, RgbImage[] images, long[] seeds)
    {
        Latents = latents;
        Decoded = decoded;
        Images = images;
        Seeds = seeds;
    }

    /// <summary>[batch, C, H, W] the sampler's final latents (diffusion scale).</summary>
    public Tensor Latents { get; }

    /// <summary>[batch, 3, h, w] the autoencoder's output, roughly in [−1, 1], not clamped (the reference's <c>decode_first_stage</c>).</summary>
    public Tensor Decoded { get; }

    /// <summary>The images, <c>uint8(255 · clamp((x + 1) / 2, 0, 1))</c> truncated as txt2img.py writes them.</summary>
    public IReadOnlyList<RgbImage> Images { get; }

    /// <summary>The seed of each image (the options' seed + index); a run of one with it gives the image again.</summary>
    public IReadOnlyList<long> Seeds { get; }

    public void Dispose()
    {
        Latents.Dispose();
        Decoded.Dispose();
    }
}

/// <summary>
/// Text to image with a Stable Diffusion 1.x checkpoint: tokenise (padding with the end-of-text id, as SD's tokenizer
/// does), encode the prompt and the negative prompt into per-token states, and run DDIM (the reference's) or a
/// k-diffusion sampler (Euler, Euler ancestral, DPM++ 2M, Karras σ by default) with classifier-free guidance from
/// seeded noise (one seed per image), from noise or, for img2img, from an encoded image; the KL autoencoder of the
/// same checkpoint decodes the latents to pixels.
/// </summary>
public sealed class StableDiffusionPipeline : IDisposable
{
    StableDiffusionPipeline(StableDiffusionCheckpoint? checkpoint, UNetModel unet, ConditioningTextEncoder text, AutoencoderKL autoencoder, ClipTokenizer tokenizer,
        NoiseSchedule schedule)
    {
        Checkpoint = checkpoint;
        Schedule = schedule;
        UNet = unet;
        TextEncoder = text;
        Autoencoder = autoencoder;
        Tokenizer = tokenizer;
        ComputeType = unet.DType;
    }

    /// <summary>The single-file checkpoint the models came from (its architecture, stored dtypes); null for parts built elsewhere (a trained model folder).</summary>
    public StableDiffusionCheckpoint? Checkpoint { get; }

    public UNetModel UNet { get; }

    public ConditioningTextEncoder TextEncoder { get; }

    /// <summary>The KL autoencoder: latents ↔ pixels, with the checkpoint's scale factor.</summary>
    public AutoencoderKL Autoencoder { get; }

    /// <summary>Pixels per latent position along each side (8 for SD).</summary>
    public int DownsampleFactor => Autoencoder.Config.DownsampleFactor;

    public ClipTokenizer Tokenizer { get; }

    /// <summary>The id prompts are padded with (<see cref="StableDiffusionCheckpoint.PadId"/>).</summary>
    public int PadId { get; private init; }

    /// <summary>What the U-Net predicts; every sampler converts it.</summary>
    public Prediction Prediction => Checkpoint?.Prediction ?? Prediction.Epsilon;

    /// <summary>Text layers skipped when a call gives none: the checkpoint's convention (SD 2.x: 2), else 1.</summary>
    public int DefaultClipSkip => Checkpoint?.DefaultClipSkip ?? 1;

    /// <summary>The training noise schedule.</summary>
    public NoiseSchedule Schedule { get; }

    /// <summary>How DDIM picks timesteps: the checkpoint's (a diffusers folder's scheduler config), else LDM's.</summary>
    public DdimTimesteps DdimTimesteps => Checkpoint?.Ddim ?? DdimTimesteps.Ldm;

    /// <summary>The DDIM run of <paramref name="steps"/> steps this model's sampler makes (it refuses step counts the reference cannot run).</summary>
    public DdimSchedule DdimScheduleFor(int steps, double eta = 0) => DdimSchedule.Create(Schedule, steps, eta, DdimTimesteps);

    /// <summary>Diffusion latent = ScaleFactor · z (the autoencoder's).</summary>
    public double ScaleFactor => Autoencoder.ScaleFactor;

    /// <summary>
    /// The dtype the three networks compute in: float32 as loaded (the reference's numbers), or bfloat16 after
    /// <see cref="To"/>. The sampler's own arithmetic (noise, the DDIM and σ updates, guidance) stays float32 either way.
    /// </summary>
    public ScalarType ComputeType { get; private set; }

    /// <summary>
    /// Converts the U-Net, the text encoder and the autoencoder to <paramref name="dtype"/> in place, one tensor at a
    /// time, so memory holds the weights once (the float32 tensor is freed as its bfloat16 copy is made). bfloat16 is
    /// the point: on a CPU with avx512_bf16 SD 1.5's U-Net step ran 3.7× faster than float32 (bench <c>diffusion</c>),
    /// at a cost in accuracy measured against the reference's images (the fidelity tests); on a CPU without bf16
    /// instructions it is emulated and slower. Float16 is refused on the CPU (its matrix products are thousands of
    /// times slower there).
    /// </summary>
    /// <exception cref="ArgumentException">a dtype other than float32 or bfloat16 (float16 off the GPU).</exception>
    public StableDiffusionPipeline To(ScalarType dtype)
    {
        bool cpu = UNet.parameters().First().device.type == DeviceType.CPU;
        bool supported = dtype is ScalarType.Float32 or ScalarType.BFloat16 || (dtype == ScalarType.Float16 && !cpu);
        if (!supported)
            throw new ArgumentException($"precision {dtype.ToString().ToLowerInvariant()}: Stable Diffusion computes in float32 or bfloat16{(cpu ? " on the CPU" : " or float16")}", nameof(dtype));
        if (dtype == ComputeType) return this;
        UNet.to(dtype);
        TextEncoder.to(dtype);
        Autoencoder.To(Autoencoder.parameters().First().device, dtype);
        ComputeType = dtype;
        return this;
    }

    /// <summary>
    /// Loads a checkpoint's U-Net, text encoder and autoencoder, each filled from the file one tensor at a time; then the
    /// checkpoint's own copy of the weights is released (<see cref="StableDiffusionCheckpoint.ReleaseWeights"/>), so
    /// memory holds the weights once.
    /// </summary>
    /// <param name="path">An SD 1.x/2.x single-file <c>.safetensors</c> or <c>.ckpt</c>, or a diffusers folder.</param>
    /// <param name="tokenizer">CLIP's tokenizer (OpenAI's vocabulary); null uses a diffusers folder's <c>tokenizer/</c>, else
    /// <see cref="ClipTokenizer.FindDefaultVocab"/>.</param>
    /// <param name="config">What the weights do not say (heads, schedule); null for SD v1's values.</param>
    /// <param name="cancellationToken">Checked while reading.</param>
    public static StableDiffusionPipeline Load(string path, ClipTokenizer? tokenizer = null, StableDiffusionConfig? config = null,
        CancellationToken cancellationToken = default)
    {
        var checkpoint = StableDiffusionCheckpoint.Open(path, config, cancellationToken);
        UNetModel? unet = null;
        ConditioningTextEncoder? text = null;
        try
        {
            tokenizer ??= checkpoint.TokenizerPath is { } folder ? ClipTokenizer.Load(folder)
                : ClipTokenizer.FindDefaultVocab() is { } vocab ? ClipTokenizer.Load(vocab)
                : throw new FileNotFoundException($"no CLIP vocabulary found for {path}: set ${ClipTokenizer.VocabEnvironmentVariable} or pass a tokenizer");
            int padId = checkpoint.PadId(tokenizer);
            unet = checkpoint.LoadUNet();
            cancellationToken.ThrowIfCancellationRequested();
            text = checkpoint.LoadTextEncoder();
            if (tokenizer.VocabSize != text.Config.VocabSize)
                throw new InvalidDataException($"{path}: the text encoder has {text.Config.VocabSize} token embeddings but the tokenizer {tokenizer.VocabSize} ids");
            cancellationToken.ThrowIfCancellationRequested();
            var autoencoder = checkpoint.LoadAutoencoder();
            if (autoencoder.Config.EmbedDim != unet.Config.InChannels)
            {
                autoencoder.Dispose();
                throw new InvalidDataException($"{path}: the autoencoder's latents have {autoencoder.Config.EmbedDim} channels but the U-Net reads {unet.Config.InChannels}");
            }
            checkpoint.ReleaseWeights();
            return new StableDiffusionPipeline(checkpoint, unet, text, autoencoder, tokenizer, checkpoint.Schedule) { PadId = padId };
        }
        catch
        {
            unet?.Dispose();
            text?.Dispose();
            checkpoint.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A pipeline of parts loaded elsewhere (a model folder trained by SharpClip); it owns and disposes them. The parts
    /// must fit together: the U-Net reads the autoencoder's latent channels and the text encoder's width.
    /// </summary>
    public static StableDiffusionPipeline FromParts(UNetModel unet, ConditioningTextEncoder text, AutoencoderKL autoencoder, ClipTokenizer tokenizer,
        NoiseSchedule schedule, string source)
    {
        if (autoencoder.Config.EmbedDim != unet.Config.InChannels)
            throw new InvalidDataException($"{source}: the autoencoder's latents have {autoencoder.Config.EmbedDim} channels but the U-Net reads {unet.Config.InChannels}");
        if (text.Config.Width != unet.Config.ContextDim)
            throw new InvalidDataException($"{source}: the text encoder's states are {text.Config.Width} wide but the U-Net's cross-attention reads {unet.Config.ContextDim}");
        if (tokenizer.VocabSize > text.Config.VocabSize)
            throw new InvalidDataException($"{source}: the tokenizer has {tokenizer.VocabSize} ids but the text encoder embeds only {text.Config.VocabSize}");
        return new StableDiffusionPipeline(null, unet, text, autoencoder, tokenizer, schedule) { PadId = tokenizer.EndOfText };
    }

    /// <summary>Token ids: start, BPE ids (truncated to fit), end, then <see cref="PadId"/> (SD 1.x and SharpClip's trained
    /// models: end-of-text; SD 2.x's OpenCLIP: 0), as <see cref="PromptTokens"/> writes them.</summary>
    /// <returns>[prompts, context] int64</returns>
    public Tensor Tokenize(IReadOnlyList<string> prompts) => PromptTokens.Tensor(Tokenizer, prompts, TextEncoder.Config.ContextLength, PadId);

    /// <summary>The per-token states the U-Net cross-attends to, in <see cref="ComputeType"/>.</summary>
    /// <returns>[prompts, context, width]</returns>
    /// <param name="prompts">The texts.</param>
    /// <param name="clipSkip">Text layers to skip; null takes <see cref="StableDiffusionCheckpoint.DefaultClipSkip"/>.</param>
    public Tensor EncodePrompts(IReadOnlyList<string> prompts, int? clipSkip = null)
    {
        using var _ = torch.inference_mode();
        using var ids = Tokenize(prompts);
        return TextEncoder.Encode(ids, clipSkip ?? DefaultClipSkip);
    }

    /// <summary>
    /// Text (or image and text) to images: <see cref="GenerateLatents"/>, then the autoencoder decodes each latent
    /// (one image at a time, which bounds the decoder's memory) and the result is turned into bytes as txt2img.py does.
    /// </summary>
    public StableDiffusionOutput Generate(IReadOnlyList<string> prompts, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new GenerationOptions();
        var latents = GenerateLatents(prompts, options, cancellationToken);
        try
        {
            using var _ = torch.inference_mode();
            var decoded = new List<Tensor>();
            try
            {
                for (long i = 0; i < latents.shape[0]; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var row = latents.narrow(0, i, 1);
                    using var image = Autoencoder.Decode(row);                                 // [1, 3, h, w] in the compute dtype
                    decoded.Add(image.to(ScalarType.Float32));
                }
                var all = torch.cat(decoded, 0);                                               // [batch, 3, h, w]
                var seeds = Enumerable.Range(0, prompts.Count).Select(i => options.Seed + i).ToArray();
                return new StableDiffusionOutput(latents, all, SignedImageTensors.ToRgbImages(all), seeds);
            }
            finally
            {
                foreach (var d in decoded) d.Dispose();
            }
        }
        catch
        {
            latents.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs the chosen sampler with classifier-free guidance for each prompt and returns the final latents, [prompts, C, H, W]
    /// (<see cref="AutoencoderKL.Decode"/> divides by the scale factor itself). With <see cref="GenerationOptions.InitImage"/>
    /// it runs img2img: the image's latent noised to the strength's level, denoised over the rest of the schedule.
    /// </summary>
    public Tensor GenerateLatents(IReadOnlyList<string> prompts, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new GenerationOptions();
        if (prompts.Count == 0) throw new ArgumentException("no prompts", nameof(prompts));
        if (options.InitImage is not null && options.InitialNoise is not null)
            throw new ArgumentException("give either an init image (img2img) or initial noise, not both", nameof(options));
        using var _ = torch.inference_mode();
        var schedule = options.Sampler == DiffusionSampler.Ddim ? DdimScheduleFor(options.Steps, options.Eta) : null;
        var (latentHeight, latentWidth) = options.InitImage is { } init ? LatentSizeOf(init) : (options.LatentHeight, options.LatentWidth);
        if (latentHeight < 1 || latentWidth < 1) throw new ArgumentOutOfRangeException(nameof(options), $"latent size {latentHeight}x{latentWidth} must be positive");
        long[] shape = [prompts.Count, UNet.Config.InChannels, latentHeight, latentWidth];
        if (options.InitialNoise is { } given && !given.shape.SequenceEqual(shape))
            throw new ArgumentException($"initial noise [{string.Join(",", given.shape)}] must be [{string.Join(",", shape)}]", nameof(options));
        using var noise = new BatchNoise(options.Seed, prompts.Count);
        // Explicit disposal rather than a dispose scope around the run: what the step callback keeps (clones) must
        // outlive this call, in the caller's scope.
        Tensor? cond = null, uncond = null, xT = null, x0 = null;
        try
        {
            cond = EncodePrompts(prompts, options.ClipSkip);                                         // [batch, 77, D]
            if (options.GuidanceScale != 1.0)
                uncond = EncodePrompts(Enumerable.Repeat(options.NegativePrompt, prompts.Count).ToArray(), options.ClipSkip);
            xT = options.InitialNoise?.to(ScalarType.Float32) ?? noise.Randn(shape);
            if (options.InitImage is { } image) x0 = EncodeInitImage(image, noise);              // [batch, C, H, W]
            NoisePredictor model = ComputeType == ScalarType.Float32 ? UNet.forward : PredictInComputeType;
            if (options.Sampler == DiffusionSampler.Ddim)
            {
                if (x0 is null)
                    return DdimSampler.Sample(model, xT, cond, uncond, options.GuidanceScale, schedule!, noise, options.OnStep, cancellationToken, null, Prediction);
                // img2img.py: t_enc = int(strength · steps); noised to entry t_enc (the last entry at most), denoised from t_enc − 1.
                int tEnc = Math.Min(StrengthSteps(options), schedule!.Count - 1);
                using var start = DdimSampler.StochasticEncode(x0, xT, schedule, tEnc);
                return DdimSampler.Sample(model, start, cond, uncond, options.GuidanceScale, schedule, noise, options.OnStep, cancellationToken, tEnc - 1, Prediction);
            }
            var sigmas = Sigmas(options);
            if (x0 is not null) sigmas = sigmas[(options.Steps - StrengthSteps(options))..];     // the last t_enc steps (+ the final 0)
            return KarrasSampler.Sample(model, xT, cond, uncond, options.GuidanceScale, Schedule, sigmas, options.Sampler switch
            {
                DiffusionSampler.Euler => KSamplerKind.Euler,
                DiffusionSampler.EulerAncestral => KSamplerKind.EulerAncestral,
                _ => KSamplerKind.DpmPlusPlus2M,
            }, noise, options.OnStep, cancellationToken, x0, Prediction);
        }
        finally
        {
            cond?.Dispose();
            uncond?.Dispose();
            xT?.Dispose();
            x0?.Dispose();
        }
    }

    // A reduced-precision U-Net reads the float32 latents in its dtype and answers in float32, so every sampler's update
    // and the guidance sum stay float32 (the text states come from EncodePrompts already in the U-Net's dtype).
    Tensor PredictInComputeType(Tensor x, Tensor timesteps, Tensor context)
    {
        using var input = x.to(ComputeType);
        using var prediction = UNet.forward(input, timesteps, context);
        return prediction.to(ScalarType.Float32);
    }

    /// <summary>The latent size of an image; its sides must be multiples of the autoencoder's factor.</summary>
    public (int Height, int Width) LatentSizeOf(RgbImage image)
    {
        int f = DownsampleFactor;
        if (image.Width % f != 0 || image.Height % f != 0 || image.Width == 0 || image.Height == 0)
            throw new ArgumentException($"the init image is {image.Width}x{image.Height}; its sides must be positive multiples of {f} (the autoencoder's factor): resize it first");
        return (image.Height / f, image.Width / f);
    }

    static int StrengthSteps(GenerationOptions options)
    {
        if (!(options.Strength > 0 && options.Strength <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), options.Strength, "strength must be in (0, 1]");
        int tEnc = (int)(options.Strength * options.Steps);
        if (tEnc < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.Strength,
                $"strength {options.Strength} of {options.Steps} steps runs no step (⌊strength · steps⌋ = 0): raise the strength or the steps");
        return tEnc;
    }

    // The posterior of the image, one encode, then a sample per row from that row's generator, times the scale factor.
    Tensor EncodeInitImage(RgbImage image, BatchNoise noise)
    {
        using var scope = torch.NewDisposeScope();
        var pixels = SignedImageTensors.FromRgbImages([image]);                                   // [1, 3, h, w] in [−1, 1]
        var moments = Autoencoder.EncodeMoments(pixels).to(ScalarType.Float32).expand(noise.Rows, -1, -1, -1);   // [batch, 2·C, H, W], sampled in float32
        using var posterior = new DiagonalGaussian(moments);
        var z = posterior.Sample(noise.Randn(posterior.Mean.shape));
        return Autoencoder.ToDiffusionLatent(z).MoveToOuterDisposeScope();
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
        Autoencoder.Dispose();
        Checkpoint?.Dispose();
    }
}
