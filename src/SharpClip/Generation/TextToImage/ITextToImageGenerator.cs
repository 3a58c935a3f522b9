using SharpClip.Runtime;
using SharpClip.Vision;

namespace SharpClip.Generation.TextToImage;

/// <summary>
/// A model that turns a caption into images, whatever its kind: Stable Diffusion (latent diffusion) now, DALL-E
/// (tokens from a transformer, decoded by the dVAE). The <c>generate</c> verb and any app talk only to this,
/// so which generator runs is decided by the model file (<see cref="TextToImageGenerators.Open"/>), not by the caller.
/// </summary>
public interface ITextToImageGenerator : IDisposable
{
    /// <summary>The model's kind as written in records: "stable-diffusion", "dalle".</summary>
    string Kind { get; }

    /// <summary>The model path it was loaded from.</summary>
    string Source { get; }

    /// <summary>The sampler names <see cref="TextToImageRequest.Sampler"/> accepts; the first is the default.</summary>
    IReadOnlyList<string> Samplers { get; }

    /// <summary>Image size when the request gives none.</summary>
    (int Width, int Height) DefaultSize { get; }

    /// <summary>Image sides must be multiples of this (the autoencoder's factor, the dVAE's grid cell).</summary>
    int SizeMultiple { get; }

    /// <summary>
    /// Checks the request against this model (sizes, sampler, strength) and returns the settings it will run with,
    /// every default filled in, for the record a result reproduces from. Throws <see cref="ArgumentException"/>
    /// naming the flag's meaning when something is out of range or unsupported.
    /// </summary>
    IReadOnlyDictionary<string, object?> Resolve(TextToImageRequest request);

    /// <summary>What one progress unit is, for a progress bar's label: "steps" (denoising), "tokens" (image tokens).</summary>
    string ProgressUnit { get; }

    /// <summary>How many progress units (denoising steps, tokens) a request takes, for a progress bar's total.</summary>
    int ProgressTotal(TextToImageRequest request);

    /// <summary>
    /// The request's <see cref="TextToImageRequest.Count"/> images in order, image i made from seed
    /// <c>Seed + i</c>; <paramref name="progress"/> is told the units done so far after each one;
    /// <paramref name="cancellationToken"/> is honoured between units.
    /// </summary>
    IReadOnlyList<GeneratedImage> Generate(TextToImageRequest request, IProgress<int>? progress = null, CancellationToken cancellationToken = default);
}

/// <summary>One image of a run: its place, the seed that reproduces it alone, and its pixels.</summary>
public sealed record GeneratedImage(int Index, long Seed, RgbImage Image);

/// <summary>
/// What to generate, in the terms every kind of generator shares; null means the model's default. A generator that
/// cannot honour a field (DALL-E has no negative prompt or init image) refuses it in
/// <see cref="ITextToImageGenerator.Resolve"/>.
/// </summary>
public sealed record TextToImageRequest
{
    public required string Prompt { get; init; }

    /// <summary>What the image should not show (classifier-free guidance's unconditional side).</summary>
    public string NegativePrompt { get; init; } = "";

    /// <summary>Images to make.</summary>
    public int Count { get; init; } = 1;

    /// <summary>Images per model call (memory vs. throughput); the seeds stay the same, but batched float sums can move a pixel by a level.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>Seed of image 0; image i uses <c>Seed + i</c>.</summary>
    public long Seed { get; init; }

    public int? Steps { get; init; }

    public double? GuidanceScale { get; init; }

    /// <summary>One of <see cref="ITextToImageGenerator.Samplers"/>; null for the first.</summary>
    public string? Sampler { get; init; }

    /// <summary>Karras σ spacing for the samplers that use σ.</summary>
    public bool Karras { get; init; }

    public int? Width { get; init; }

    public int? Height { get; init; }

    /// <summary>img2img: the image to start from (resized to the output size when it differs).</summary>
    public RgbImage? InitImage { get; init; }

    /// <summary>img2img: the part of the schedule rerun, in (0, 1].</summary>
    public double Strength { get; init; } = 0.75;

    /// <summary>Which text layer conditions the image, counted from the last (1).</summary>
    public int? ClipSkip { get; init; }

    /// <summary>Token sampling (DALL-E): logits divided by this; null for 1.</summary>
    public double? Temperature { get; init; }

    /// <summary>Token sampling (DALL-E): keep only the k likeliest codes; null keeps all.</summary>
    public int? TopK { get; init; }

    /// <summary>Token sampling (DALL-E): nucleus probability mass kept; null keeps all.</summary>
    public double? TopP { get; init; }
}

/// <summary>How to load a generator: what the model file may not carry.</summary>
public sealed record TextToImageLoadOptions
{
    /// <summary>The BPE vocabulary for models that carry none (SD single files).</summary>
    public string? VocabPath { get; init; }

    /// <summary>Stable Diffusion: what the U-Net predicts ("epsilon" or "v"); null lets the model's files decide.</summary>
    public string? Prediction { get; init; }

    /// <summary>
    /// What the networks compute in: Float32 (the default, the reference's numbers), BFloat16 (Stable Diffusion and
    /// latent diffusion folders; several times faster on CPUs with avx512_bf16, at a small measured cost in accuracy), or
    /// Auto (bfloat16 where the CPU has bf16 instructions). A generator that cannot compute in the one asked for refuses it.
    /// </summary>
    public Precision Precision { get; init; } = Precision.Float32;
}
