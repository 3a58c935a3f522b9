using SharpClip.Generation.TextToImage;
using SharpClip.Runtime;

namespace SharpClip.Web;

/// <summary>
/// Settings of the web app's generate page: the model (any model <c>sharpclip generate</c> takes; its files say which
/// kind), an optional CLIP reranker, and the limits a request is held to. Generation takes seconds to minutes on a CPU,
/// so jobs run one at a time and the line behind the running one is short and bounded: a request beyond it is refused
/// at once rather than left to wait for an hour.
/// </summary>
public sealed record GenerateWebOptions
{
    /// <summary>A text-to-image model: a Stable Diffusion checkpoint or diffusers folder, a latent diffusion folder, a DALL-E folder.</summary>
    public required string ModelPath { get; init; }

    /// <summary>A CLIP model that ranks the images against the prompt; the request's <c>keep</c> best are kept.</summary>
    public string? RerankModelPath { get; init; }

    /// <summary>CLIP's BPE vocabulary, for Stable Diffusion single files and rerankers that carry none.</summary>
    public string? VocabPath { get; init; }

    /// <summary>Stable Diffusion: what the U-Net predicts ("epsilon" or "v"); null lets the model's files decide.</summary>
    public string? Prediction { get; init; }

    /// <summary>What the generator computes in (<see cref="TextToImageLoadOptions.Precision"/>): float32 unless asked.</summary>
    public Precision Precision { get; init; } = Precision.Float32;

    /// <summary>Jobs that may wait behind the running one; the next request is answered 503.</summary>
    public int MaxWaiting { get; init; } = 4;

    /// <summary>Finished jobs whose images are kept (in a temporary folder) for the page to show and download.</summary>
    public int KeepFinished { get; init; } = 32;

    /// <summary>Images (candidates, when reranking) one request may ask for.</summary>
    public int MaxCount { get; init; } = 32;

    /// <summary>Denoising steps one request may ask for (the model may allow fewer: its schedule's length).</summary>
    public int MaxSteps { get; init; } = 200;

    /// <summary>Largest image side in pixels.</summary>
    public int MaxSide { get; init; } = 1024;

    /// <summary>Largest width × height: memory and time grow with it.</summary>
    public long MaxPixels { get; init; } = 1024 * 1024;

    /// <summary>Largest classifier-free guidance scale.</summary>
    public double MaxGuidance { get; init; } = 30;

    public int MaxPromptChars { get; init; } = 1000;
}
