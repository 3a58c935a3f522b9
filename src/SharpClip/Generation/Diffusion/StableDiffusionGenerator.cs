using SharpClip.Generation.Diffusion.Sampling;
using SharpClip.Generation.TextToImage;
using SharpClip.Runtime;
using SharpClip.Text;
using SharpClip.Vision;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion;

/// <summary>
/// Stable Diffusion behind the text-to-image seam: maps a <see cref="TextToImageRequest"/> onto
/// <see cref="StableDiffusionPipeline.Generate"/> in batches of <see cref="TextToImageRequest.BatchSize"/>, image i with
/// seed <c>Seed + i</c> whatever the batching (batch k starts at seed <c>Seed + k·BatchSize</c>). The same for a
/// single-file SD checkpoint and for a latent diffusion folder trained here (<see cref="LatentDiffusionFolder"/>),
/// which differ only in kind and default size.
/// </summary>
public sealed class StableDiffusionGenerator : ITextToImageGenerator
{
    /// <summary>Sampler names as the CLI spells them; DDIM (the reference's) first.</summary>
    public static readonly IReadOnlyList<string> SamplerNames = ["ddim", "euler", "euler-a", "dpmpp-2m"];

    const int DefaultSteps = 50;
    const double DefaultGuidance = 7.5;

    readonly int _defaultLatentSide;

    StableDiffusionGenerator(StableDiffusionPipeline pipeline, string source, string kind, int defaultLatentSide)
    {
        Pipeline = pipeline;
        Source = source;
        Kind = kind;
        _defaultLatentSide = defaultLatentSide;
    }

    public StableDiffusionPipeline Pipeline { get; }

    /// <summary>"stable-diffusion" (a single-file checkpoint) or "latent-diffusion" (a folder trained here).</summary>
    public string Kind { get; }

    public string Source { get; }

    public IReadOnlyList<string> Samplers => SamplerNames;

    /// <summary>SD v1's 512×512 (64×64 latents × the autoencoder's factor); a trained folder's own image size.</summary>
    public (int Width, int Height) DefaultSize => (_defaultLatentSide * SizeMultiple, _defaultLatentSide * SizeMultiple);

    public int SizeMultiple => Pipeline.DownsampleFactor;

    public string ProgressUnit => "steps";

    /// <summary>Loads a checkpoint; the vocabulary comes from the options or <c>$CLIP_VOCAB</c>.</summary>
    public static StableDiffusionGenerator Load(string path, TextToImageLoadOptions options)
    {
        ClipTokenizer? tokenizer = options.VocabPath is { } vocab ? ClipTokenizer.Load(vocab) : null;
        var config = new StableDiffusionConfig { Prediction = options.Prediction is { } p ? PredictionNames.Parse(p, "--prediction") : null };
        var dtype = ComputeTypeOf(options.Precision);
        var pipeline = StableDiffusionPipeline.Load(path, tokenizer, config);
        return new StableDiffusionGenerator(InComputeType(pipeline, dtype), path, "stable-diffusion", 64);
    }

    /// <summary>Loads a latent diffusion folder written by <c>train-diffusion</c> (it carries its own tokenizer).</summary>
    public static StableDiffusionGenerator LoadFolder(string folder, TextToImageLoadOptions? options = null)
    {
        var dtype = ComputeTypeOf(options?.Precision ?? Precision.Float32);
        var description = LatentDiffusionFolder.ReadConfig(folder);
        var pipeline = InComputeType(LatentDiffusionFolder.Load(folder), dtype);
        return new StableDiffusionGenerator(pipeline, folder, LatentDiffusionFolder.Kind, Math.Max(1, description.ImageSize / pipeline.DownsampleFactor));
    }

    /// <summary>The dtype a precision asks for, as <see cref="ComputeTarget.Select"/> chooses it for the CPU (Auto: bfloat16
    /// where the CPU has bf16 instructions). Called before loading, so a refused precision costs no read of the weights.</summary>
    /// <exception cref="ArgumentException">int8 (CLIP's ONNX path, not a dtype a U-Net computes in) or fp16 (generation runs on the CPU).</exception>
    public static ScalarType ComputeTypeOf(Precision precision) => precision is Precision.Int8 or Precision.Float16
        ? throw new ArgumentException($"precision {precision.ToString().ToLowerInvariant()}: Stable Diffusion computes in fp32, bf16 or auto " +
                                      "(int8 is CLIP's ONNX path; fp16 matrix products are very slow on the CPU)")
        : ComputeTarget.Select("cpu", precision).DType;

    // The pipeline in the dtype asked for; disposed if the cast fails.
    static StableDiffusionPipeline InComputeType(StableDiffusionPipeline pipeline, ScalarType dtype)
    {
        try
        {
            return pipeline.To(dtype);
        }
        catch
        {
            pipeline.Dispose();
            throw;
        }
    }

    /// <summary>The sampler of a CLI name.</summary>
    public static DiffusionSampler ParseSampler(string? name) => (name ?? "ddim").ToLowerInvariant() switch
    {
        "ddim" => DiffusionSampler.Ddim,
        "euler" => DiffusionSampler.Euler,
        "euler-a" or "euler_a" => DiffusionSampler.EulerAncestral,
        "dpmpp-2m" or "dpm++2m" or "dpmpp_2m" => DiffusionSampler.DpmPlusPlus2M,
        _ => throw new ArgumentException($"sampler '{name}' is not supported by Stable Diffusion; choose one of {string.Join(", ", SamplerNames)}"),
    };

    public IReadOnlyDictionary<string, object?> Resolve(TextToImageRequest request)
    {
        var options = Options(request, 0);
        var (width, height) = Size(request);
        return new Dictionary<string, object?>
        {
            ["sampler"] = SamplerNames[(int)options.Sampler],
            ["karras"] = options.Sampler != DiffusionSampler.Ddim && options.KarrasSigmas,
            ["steps"] = options.Steps,
            ["steps_run"] = StepsPerBatch(request),
            ["guidance"] = options.GuidanceScale,
            ["eta"] = options.Eta,
            ["width"] = width,
            ["height"] = height,
            ["clip_skip"] = options.ClipSkip,
            ["strength"] = request.InitImage is null ? null : request.Strength,
            ["scale_factor"] = Pipeline.ScaleFactor,
            ["prediction"] = Pipeline.Prediction.Name(),
            ["schedule"] = $"linear, {Pipeline.Schedule.Timesteps} timesteps",
            ["precision"] = Pipeline.ComputeType switch { ScalarType.BFloat16 => "bf16", ScalarType.Float16 => "fp16", _ => "fp32" },
        };
    }

    public int ProgressTotal(TextToImageRequest request) => StepsPerBatch(request) * ((request.Count + request.BatchSize - 1) / request.BatchSize);

    public IReadOnlyList<GeneratedImage> Generate(TextToImageRequest request, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        Resolve(request);
        var images = new List<GeneratedImage>(request.Count);
        int done = 0;
        for (int start = 0; start < request.Count; start += request.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(request.BatchSize, request.Count - start);
            var options = Options(request, start) with { OnStep = _ => progress?.Report(++done) };
            using var output = Pipeline.Generate(Enumerable.Repeat(request.Prompt, n).ToArray(), options, cancellationToken);
            for (int i = 0; i < n; i++) images.Add(new GeneratedImage(start + i, output.Seeds[i], output.Images[i]));
        }
        return images;
    }

    (int Width, int Height) Size(TextToImageRequest request)
    {
        int width = request.Width ?? DefaultSize.Width, height = request.Height ?? DefaultSize.Height;
        if (width <= 0 || height <= 0 || width % SizeMultiple != 0 || height % SizeMultiple != 0)
            throw new ArgumentException($"size {width}x{height}: width and height must be positive multiples of {SizeMultiple} (the autoencoder's factor)");
        return (width, height);
    }

    GenerationOptions Options(TextToImageRequest request, int firstImage)
    {
        if (string.IsNullOrWhiteSpace(request.Prompt)) throw new ArgumentException("the prompt is empty");
        if (request.Temperature is not null || request.TopK is not null || request.TopP is not null)
            throw new ArgumentException("temperature, top-k and top-p sample the tokens of a DALL-E model; Stable Diffusion denoises instead (use steps, guidance, sampler)");
        if (request.Count < 1) throw new ArgumentException($"the image count {request.Count} must be at least 1");
        if (request.BatchSize < 1) throw new ArgumentException($"the batch size {request.BatchSize} must be at least 1");
        if (request.ClipSkip is < 1 || request.ClipSkip > Pipeline.TextEncoder.Config.Layers)
            throw new ArgumentException($"clip skip {request.ClipSkip} must be 1..{Pipeline.TextEncoder.Config.Layers} (the text encoder's layers)");
        var sampler = ParseSampler(request.Sampler);
        int steps = request.Steps ?? DefaultSteps;
        if (steps < 1 || steps > Pipeline.Schedule.Timesteps) throw new ArgumentException($"steps {steps} must be 1..{Pipeline.Schedule.Timesteps}");
        double guidance = request.GuidanceScale ?? DefaultGuidance;
        if (!(guidance >= 1) || double.IsInfinity(guidance)) throw new ArgumentException($"guidance {guidance} must be a finite number ≥ 1 (1 turns it off)");
        var (width, height) = Size(request);
        var init = request.InitImage;
        if (init is not null)
        {
            if (!(request.Strength > 0 && request.Strength <= 1)) throw new ArgumentException($"strength {request.Strength} must be in (0, 1]");
            if ((int)(request.Strength * steps) < 1) throw new ArgumentException($"strength {request.Strength} of {steps} steps runs no step: raise --strength or --steps");
            if (init.Width != width || init.Height != height) init = init.Resize(width, height, ResampleFilter.Lanczos);
        }
        if (sampler == DiffusionSampler.Ddim) _ = Pipeline.DdimScheduleFor(steps); // refuses step counts the reference cannot run
        return new GenerationOptions
        {
            NegativePrompt = request.NegativePrompt, Sampler = sampler, KarrasSigmas = request.Karras, Steps = steps, GuidanceScale = guidance,
            Seed = request.Seed + firstImage, LatentHeight = height / SizeMultiple, LatentWidth = width / SizeMultiple, ClipSkip = request.ClipSkip ?? Pipeline.DefaultClipSkip,
            InitImage = init, Strength = request.Strength,
        };
    }

    int StepsPerBatch(TextToImageRequest request)
    {
        var options = Options(request, 0);
        if (options.Sampler == DiffusionSampler.Ddim)
        {
            int count = Pipeline.DdimScheduleFor(options.Steps).Count;
            return options.InitImage is null ? count : Math.Min((int)(options.Strength * options.Steps), count - 1);
        }
        return options.InitImage is null ? options.Steps : (int)(options.Strength * options.Steps);
    }

    public void Dispose() => Pipeline.Dispose();
}
