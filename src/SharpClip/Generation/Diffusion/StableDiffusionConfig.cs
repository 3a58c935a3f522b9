using System.Text.Json;
using SharpClip.Files;
using SharpClip.Generation.Diffusion.Conditioning;
using SharpClip.Generation.Diffusion.Sampling;
using SharpClip.Generation.Diffusion.UNet;

namespace SharpClip.Generation.Diffusion;

/// <summary>
/// What a Stable Diffusion checkpoint's weights do not say, given explicitly: the U-Net's heads (or its whole
/// architecture), the text encoder's heads, the schedule, the latent scale factor. Any field left null is inferred
/// from the weights or takes SD v1's value (v1-inference.yaml).
/// </summary>
public sealed record StableDiffusionConfig
{
    /// <summary>The U-Net architecture; null infers it from the weights (with <see cref="NumHeads"/>/<see cref="NumHeadChannels"/>).</summary>
    public UNetConfig? UNet { get; init; }

    /// <summary>Heads per U-Net attention when the architecture is inferred (SD v1: 8).</summary>
    public int? NumHeads { get; init; }

    /// <summary>Fixed head width when the architecture is inferred (SD v2: 64); excludes <see cref="NumHeads"/>.</summary>
    public int? NumHeadChannels { get; init; }

    /// <summary>The text encoder's shape; null infers it (heads from <see cref="TextHeads"/>, else width / 64).</summary>
    public TextEncoderConfig? Text { get; init; }

    /// <summary>Heads of the text encoder when its shape is inferred.</summary>
    public int? TextHeads { get; init; }

    /// <summary>β schedule bounds and length (v1-inference.yaml's linear_start, linear_end, timesteps).</summary>
    public double LinearStart { get; init; } = 0.00085;
    public double LinearEnd { get; init; } = 0.012;
    public int Timesteps { get; init; } = 1000;

    /// <summary>Latents are the autoencoder's times this factor (0.18215 for SD v1/v2).</summary>
    public double ScaleFactor { get; init; } = 0.18215;

    /// <summary>
    /// What the U-Net predicts; null decides as other tools do: a diffusers folder's scheduler config, else ε (a single
    /// file does not say; SD 2.x 768-v files need <see cref="Prediction.V"/> given here or as <c>--prediction v</c>).
    /// </summary>
    public Prediction? Prediction { get; init; }

    /// <summary>
    /// Text layers to skip by default (1 = the last layer's states); null takes the model's convention: 2 (the
    /// penultimate layer, FrozenOpenCLIPEmbedder's <c>layer="penultimate"</c>) for an OpenCLIP text tower in an SD 2.x
    /// single file, else 1.
    /// </summary>
    public int? ClipSkip { get; init; }

    /// <summary>
    /// How DDIM picks its timesteps and final ᾱ; null is LDM's (<see cref="DdimTimesteps.Ldm"/>). A diffusers folder's
    /// scheduler config sets it (<c>timestep_spacing</c>, <c>steps_offset</c>, <c>set_alpha_to_one</c>).
    /// </summary>
    public DdimTimesteps? Ddim { get; init; }

    /// <summary>
    /// Reads a JSON config: SharpClip's <c>{"latent_diffusion": {...}, "unet": {...}, "text": {...}}</c> (the fixture
    /// manifest's <c>config</c> layout: LDM's params, UNetModel's params, an HF CLIPTextConfig), or v1-inference.yaml
    /// converted to JSON (<c>model.params</c> with <c>unet_config.params</c>).
    /// </summary>
    public static StableDiffusionConfig Read(string path)
    {
        using var doc = JsonFiles.Read(path);
        return FromJson(doc.RootElement, path);
    }

    /// <inheritdoc cref="Read"/>
    public static StableDiffusionConfig FromJson(JsonElement root, string source)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{source}: not a JSON object");
        var ldm = root.TryGetProperty("latent_diffusion", out var l) ? l
            : root.TryGetProperty("model", out var m) && m.TryGetProperty("params", out var p) ? p : default;
        UNetConfig? unet = root.TryGetProperty("unet", out var u) ? UNetConfig.FromJson(u, source)
            : ldm.ValueKind == JsonValueKind.Object && ldm.TryGetProperty("unet_config", out _) ? UNetConfig.FromJson(root, source) : null;
        TextEncoderConfig? text = root.TryGetProperty("text", out var t) ? TextEncoderConfig.FromHuggingFaceJson(t, source) : null;
        var c = new StableDiffusionConfig { UNet = unet, Text = text };
        if (ldm.ValueKind != JsonValueKind.Object) return c;
        double Num(string name, double fallback) => ldm.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : fallback;
        Prediction? prediction = ldm.TryGetProperty("parameterization", out var par)
            ? PredictionNames.Parse(par.ValueKind == JsonValueKind.String ? par.GetString() : par.ToString(), $"{source} (parameterization)") : null;
        if (ldm.TryGetProperty("beta_schedule", out var bs) && bs.GetString() is { } schedule && schedule != "linear")
            throw new InvalidDataException($"{source}: beta_schedule '{schedule}' is not supported (only 'linear')");
        return c with
        {
            LinearStart = Num("linear_start", c.LinearStart),
            LinearEnd = Num("linear_end", c.LinearEnd),
            Timesteps = (int)Num("timesteps", c.Timesteps),
            ScaleFactor = Num("scale_factor", c.ScaleFactor),
            Prediction = prediction,
        };
    }
}
