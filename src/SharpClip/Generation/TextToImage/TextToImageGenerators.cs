using SharpClip.Generation.Dalle;
using SharpClip.Generation.Diffusion;
using SharpClip.Runtime;

namespace SharpClip.Generation.TextToImage;

/// <summary>
/// Opens a model as the generator its kind calls for. Each kind registers how to recognise its files and how to
/// open them; Stable Diffusion (a checkpoint file), DALL-E (a model folder with dalle_config.json) and a latent diffusion
/// folder trained here (latent_diffusion.json) are built in.
/// </summary>
public static class TextToImageGenerators
{
    /// <summary>One kind of generator: a cheap test of a path (may throw a clear error for a damaged file of its kind) and a loader.</summary>
    public sealed record Kind(string Name, string Recognised, Func<string, bool> Recognizes, Func<string, TextToImageLoadOptions, ITextToImageGenerator> Open);

    static readonly List<Kind> _kinds =
    [
        new("stable-diffusion", "a Stable Diffusion checkpoint (.safetensors/.ckpt with model.diffusion_model.* keys, or a diffusers folder with unet/config.json)",
            StableDiffusionCheckpoint.Recognizes, (path, options) => StableDiffusionGenerator.Load(path, options)),
        new("dalle", $"a DALL-E model folder ({DalleModel.ConfigFile}, {DalleModel.WeightsFile}, {DalleModel.VocabFile}, {DalleModel.DvaeFolder}/)",
            path => Directory.Exists(path) && DalleModel.IsModelFolder(path), (path, options) => options.Precision is Precision.Float32 or Precision.Auto
                ? DalleGenerator.Load(path)
                : throw new ArgumentException($"precision {options.Precision.ToString().ToLowerInvariant()}: a DALL-E model computes in fp32 only")),
        new(LatentDiffusionFolder.Kind, $"a latent diffusion model folder from train-diffusion ({LatentDiffusionFolder.ConfigFile}, {LatentDiffusionFolder.UNetFile}, ...)",
            LatentDiffusionFolder.IsModelFolder, (path, options) => StableDiffusionGenerator.LoadFolder(path, options)),
    ];

    /// <summary>Adds a kind, tried after the ones before it.</summary>
    public static void Register(Kind kind)
    {
        lock (_kinds) if (_kinds.All(k => k.Name != kind.Name)) _kinds.Add(kind);
    }

    /// <summary>The generator for the model at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">nothing at the path.</exception>
    /// <exception cref="InvalidDataException">no kind recognises it (the message lists what would be).</exception>
    public static ITextToImageGenerator Open(string path, TextToImageLoadOptions? options = null)
    {
        if (!File.Exists(path) && !Directory.Exists(path)) throw new FileNotFoundException($"{path}: no such model file or folder", path);
        Kind[] kinds;
        lock (_kinds) kinds = [.. _kinds];
        foreach (var kind in kinds)
            if (kind.Recognizes(path)) return kind.Open(path, options ?? new TextToImageLoadOptions());
        throw new InvalidDataException($"{path}: not a text-to-image model; expected {string.Join(", or ", kinds.Select(k => k.Recognised))}");
    }
}
