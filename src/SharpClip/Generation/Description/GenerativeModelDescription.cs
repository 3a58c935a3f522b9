using System.Globalization;
using SharpClip.Files;
using SharpClip.Generation.Dalle;
using SharpClip.Generation.Dalle.Dvae;
using SharpClip.Generation.Dalle.Transformer;
using SharpClip.Generation.Diffusion;
using SharpClip.Generation.Diffusion.Autoencoder;
using SharpClip.Generation.Diffusion.Conditioning;
using SharpClip.Generation.Diffusion.Sampling;
using SharpClip.Generation.Diffusion.UNet;

namespace SharpClip.Generation.Description;

/// <summary>
/// One part of a generative model (U-Net, autoencoder, text encoder, transformer, dVAE half): its parameter count and
/// its architecture, keyed by the names the reference configs use (ldm's <c>model_channels</c>, DALL-E's <c>n_hid</c>)
/// so a reader can hold them against the config a checkpoint was published with.
/// </summary>
/// <param name="Name">"unet", "vae", "text", "transformer", "dvae_encoder", "dvae_decoder".</param>
/// <param name="Parameters">Values in its weights.</param>
/// <param name="Config">Its architecture, in the order worth reading.</param>
public sealed record ModelPartDescription(string Name, long Parameters, IReadOnlyDictionary<string, object?> Config);

/// <summary>
/// What a text-to-image model is, read from its files without running it: the library side of <c>sharpclip info</c>
/// for the models that are not CLIP. <see cref="Describe"/> returns null for anything else, so the verb falls back to
/// the CLIP description.
/// </summary>
/// <param name="Path">The file or folder described.</param>
/// <param name="Kind">"stable-diffusion", "latent-diffusion", "dalle", "dvae".</param>
/// <param name="Format">How it is stored.</param>
/// <param name="Parts">Its parts.</param>
/// <param name="Settings">What is not a part's architecture: schedule, scale factor, image size, stored dtypes.</param>
/// <param name="Notes">What the files cannot say and was assumed (attention heads leave no trace in weights).</param>
public sealed record GenerativeModelDescription(string Path, string Kind, string Format, IReadOnlyList<ModelPartDescription> Parts,
    IReadOnlyDictionary<string, object?> Settings, IReadOnlyList<string> Notes)
{
    public long TotalParameters => Parts.Sum(p => p.Parameters);

    /// <summary>
    /// The description of a Stable Diffusion checkpoint, a DALL-E model folder, a dVAE folder (<c>encoder.*</c> +
    /// <c>decoder.*</c>) or one dVAE half; null when <paramref name="path"/> is none of them. A damaged file of one of
    /// these kinds throws its loader's clear error.
    /// </summary>
    public static GenerativeModelDescription? Describe(string path)
    {
        if (StableDiffusionCheckpoint.Recognizes(path)) return StableDiffusion(path);
        if (Directory.Exists(path) && DalleModel.IsModelFolder(path)) return Dalle(path);
        if (LatentDiffusionFolder.IsModelFolder(path)) return LatentDiffusion(path);
        if (Directory.Exists(path) && HasHalf(path, "encoder") && HasHalf(path, "decoder"))
            return new GenerativeModelDescription(path, "dvae", "dVAE folder", DvaeParts(path), new Dictionary<string, object?>(), []);
        if (File.Exists(path) && IsDvaeHalf(path))
        {
            var part = DvaeHalf(path);
            return new GenerativeModelDescription(path, "dvae", FileFormat(path), [part], new Dictionary<string, object?>(), []);
        }
        return null;
    }

    static GenerativeModelDescription StableDiffusion(string path)
    {
        using var checkpoint = StableDiffusionCheckpoint.Open(path);
        var counts = checkpoint.PartParameterCounts;
        var linear = NoiseSchedule.StableDiffusion;
        bool isLinear = checkpoint.Schedule.Timesteps == linear.Timesteps
                        && checkpoint.Schedule.AlphasCumprod.Zip(linear.AlphasCumprod, (a, b) => Math.Abs(a - b)).Max() <= 1e-6;
        var vae = checkpoint.AutoencoderConfig;
        return new GenerativeModelDescription(path, "stable-diffusion", checkpoint.Format,
            DiffusionParts(checkpoint.UNetConfig, counts["unet"], vae, counts["vae"], checkpoint.TextConfig, counts["text"]),
        new Dictionary<string, object?>
        {
            ["schedule"] = isLinear ? "linear (β 0.00085 → 0.012, SD 1.x/2.x's)" : checkpoint.Schedule.AlphasCumprod64.Count > 0
                ? $"linear (β {checkpoint.LinearBetas.Start} → {checkpoint.LinearBetas.End})" : "from the file's alphas_cumprod (not SD's linear schedule)",
            ["timesteps"] = checkpoint.Schedule.Timesteps,
            ["scale_factor"] = checkpoint.ScaleFactor,
            ["prediction"] = $"{checkpoint.Prediction.Name()} ({checkpoint.PredictionSource})",
            ["text_tower"] = checkpoint.OpenClipText ? "OpenCLIP (SD 2.x: GELU, padded with 0)" : "CLIP (HF CLIPTextModel names)",
            ["clip_skip"] = checkpoint.DefaultClipSkip == 1 ? "1 (last layer)" : $"{checkpoint.DefaultClipSkip} (penultimate layer, as SD 2.x)",
            ["default_size"] = $"{64 * vae.DownsampleFactor}x{64 * vae.DownsampleFactor}",
            ["stored_dtypes"] = checkpoint.StoredValuesByDtype,
            ["ignored_keys"] = checkpoint.IgnoredKeys.Count,
        },
        checkpoint.Format == "diffusers folder"
            ? ["architecture, heads, scale factor, schedule and prediction from the folder's configs", .. checkpoint.Notes]
            : [
                "attention heads leave no trace in the weights: the U-Net's and the text encoder's are SD 1.x's convention (SD 2.x: heads of 64) unless a config says otherwise",
                "the scale factor is 0.18215 and the prediction ε unless given (a single-file checkpoint stores neither; SD 2.x 768-v needs --prediction v)",
            ]);
    }

    // A folder from train-diffusion: its config says everything the weights cannot (heads, schedule, scale factor).
    static GenerativeModelDescription LatentDiffusion(string folder)
    {
        var d = LatentDiffusionFolder.ReadConfig(folder);
        var a = d.Architecture;
        long Parameters(string file)
        {
            var path = System.IO.Path.Combine(folder, file);
            if (!File.Exists(path)) throw new FileNotFoundException($"{folder}: no {file}", path);
            using var f = SafeTensorsFile.Open(path);
            return f.Tensors.Sum(t => t.ElementCount);
        }
        var vaePath = System.IO.Path.Combine(folder, LatentDiffusionFolder.AutoencoderFile);
        long vaeParameters = Parameters(LatentDiffusionFolder.AutoencoderFile);
        AutoencoderConfig vae;
        using (var f = SafeTensorsFile.Open(vaePath))
            vae = AutoencoderShape.Infer(f.Tensors.ToDictionary(t => t.Name, t => t.Shape), vaePath);
        var settings = new Dictionary<string, object?>
        {
            ["schedule"] = $"linear (β {Show(a.LinearStart)} → {Show(a.LinearEnd)})",
            ["timesteps"] = a.Timesteps,
            ["scale_factor"] = a.ScaleFactor,
            ["prediction"] = "eps",
            ["default_size"] = $"{d.ImageSize}x{d.ImageSize}",
        };
        foreach (var (key, value) in d.TrainedWith) settings["trained_with_" + key] = value;
        return new GenerativeModelDescription(folder, LatentDiffusionFolder.Kind, "latent diffusion model folder (train-diffusion)",
            DiffusionParts(a.UNet!, Parameters(LatentDiffusionFolder.UNetFile), vae, vaeParameters, a.Text!, Parameters(LatentDiffusionFolder.TextEncoderFile)),
            settings, ["the U-Net holds the exponential moving average of the trained weights when the run kept one (the default)"]);
    }

    static ModelPartDescription[] DiffusionParts(UNetConfig unet, long unetParameters, AutoencoderConfig vae, long vaeParameters, TextEncoderConfig text, long textParameters) =>
        [
            new("unet", unetParameters, new Dictionary<string, object?>
            {
                ["in_channels"] = unet.InChannels, ["out_channels"] = unet.OutChannels, ["model_channels"] = unet.ModelChannels,
                ["channel_mult"] = unet.ChannelMult.ToArray(), ["num_res_blocks"] = unet.NumResBlocks,
                ["attention_resolutions"] = unet.AttentionResolutions.ToArray(), ["num_heads"] = unet.NumHeads, ["num_head_channels"] = unet.NumHeadChannels,
                ["transformer_depth"] = unet.TransformerDepth, ["context_dim"] = unet.ContextDim, ["use_linear_in_transformer"] = unet.UseLinearInTransformer,
                ["time_embed_dim"] = unet.TimeEmbedDim,
            }),
            new("vae", vaeParameters, new Dictionary<string, object?>
            {
                ["ch"] = vae.Channels, ["ch_mult"] = vae.ChannelMultipliers, ["num_res_blocks"] = vae.ResBlocks, ["z_channels"] = vae.ZChannels,
                ["embed_dim"] = vae.EmbedDim, ["in_channels"] = vae.InChannels, ["out_ch"] = vae.OutChannels,
                ["attention_levels"] = vae.AttentionLevels, ["downsample_factor"] = vae.DownsampleFactor,
            }),
            new("text", textParameters, new Dictionary<string, object?>
            {
                ["hidden_size"] = text.Width, ["num_hidden_layers"] = text.Layers, ["num_attention_heads"] = text.Heads,
                ["intermediate_size"] = text.MlpWidth, ["max_position_embeddings"] = text.ContextLength, ["vocab_size"] = text.VocabSize,
                ["hidden_act"] = text.Activation.ToString(),
            }),
        ];

    static GenerativeModelDescription Dalle(string folder)
    {
        var config = DalleConfig.Load(System.IO.Path.Combine(folder, DalleModel.ConfigFile));
        var weights = System.IO.Path.Combine(folder, DalleModel.WeightsFile);
        if (!File.Exists(weights)) throw new FileNotFoundException($"{folder}: no {DalleModel.WeightsFile}");
        long parameters;
        using (var file = SafeTensorsFile.Open(weights)) parameters = file.Tensors.Sum(t => t.ElementCount);
        var parts = new List<ModelPartDescription>
        {
            new("transformer", parameters, new Dictionary<string, object?>
            {
                ["width"] = config.Width, ["layers"] = config.Layers, ["heads"] = config.Heads, ["text_length"] = config.TextLength,
                ["text_vocab"] = config.TextVocabSize, ["image_vocab"] = config.ImageVocabSize, ["image_grid"] = new[] { config.ImageRows, config.ImageColumns },
                ["sequence_length"] = config.TextLength + config.ImageTokens,
            }),
        };
        var dvaeFolder = System.IO.Path.Combine(folder, DalleModel.DvaeFolder);
        var settings = new Dictionary<string, object?> { ["image_tokens"] = config.ImageTokens };
        if (Directory.Exists(dvaeFolder))
        {
            parts.AddRange(DvaeParts(dvaeFolder));
            int cell = 1 << ((int)parts[1].Config["group_count"]! - 1);
            settings["image_size"] = $"{config.ImageColumns * cell}x{config.ImageRows * cell}";
        }
        else settings["image_size"] = "unknown (no dvae/ folder: the model cannot make pixels)";
        return new GenerativeModelDescription(folder, "dalle", "DALL-E model folder", parts, settings, []);
    }

    static bool HasHalf(string folder, string half) =>
        File.Exists(System.IO.Path.Combine(folder, half + ".safetensors")) || File.Exists(System.IO.Path.Combine(folder, half + ".pkl"));

    static string HalfPath(string folder, string half) =>
        File.Exists(System.IO.Path.Combine(folder, half + ".safetensors")) ? System.IO.Path.Combine(folder, half + ".safetensors") : System.IO.Path.Combine(folder, half + ".pkl");

    static ModelPartDescription[] DvaeParts(string folder) => [DvaeHalf(HalfPath(folder, "encoder"), encoder: true), DvaeHalf(HalfPath(folder, "decoder"), encoder: false)];

    // A dVAE half: an openai/DALL-E pickle named like one, or a safetensors state dict with the package's key names.
    static bool IsDvaeHalf(string path)
    {
        var name = System.IO.Path.GetFileName(path).ToLowerInvariant();
        if (name.EndsWith(".pkl", StringComparison.Ordinal)) return name.Contains("encoder") || name.Contains("decoder");
        if (!name.EndsWith(".safetensors", StringComparison.Ordinal)) return false;
        using var file = SafeTensorsFile.Open(path);
        return file.Names.Contains("blocks.input.w") && file.Names.Contains("blocks.output.conv.w");
    }

    // Which half a lone file is: its name when it says, else the input convolution (7×7 for the encoder, 1×1 for the decoder).
    static ModelPartDescription DvaeHalf(string path)
    {
        var name = System.IO.Path.GetFileName(path).ToLowerInvariant();
        if (name.Contains("decoder")) return DvaeHalf(path, encoder: false);
        if (name.Contains("encoder") || !name.EndsWith(".safetensors", StringComparison.Ordinal)) return DvaeHalf(path, encoder: true);
        using var file = SafeTensorsFile.Open(path);
        var input = file.Tensors.First(t => t.Name == "blocks.input.w");
        return DvaeHalf(path, encoder: input.Shape.Length == 4 && input.Shape[2] > 1);
    }

    static ModelPartDescription DvaeHalf(string path, bool encoder)
    {
        if (encoder)
        {
            using var model = DvaeCheckpoint.LoadEncoder(path);
            var c = model.Config;
            return new("dvae_encoder", Count(model), new Dictionary<string, object?>
            {
                ["group_count"] = c.GroupCount, ["n_hid"] = c.HiddenWidth, ["n_blk_per_group"] = c.BlocksPerGroup,
                ["input_channels"] = c.InputChannels, ["vocab_size"] = c.VocabSize, ["downsampling"] = c.Downsampling, ["file"] = path,
            });
        }
        using var decoder = DvaeCheckpoint.LoadDecoder(path);
        var d = decoder.Config;
        return new("dvae_decoder", Count(decoder), new Dictionary<string, object?>
        {
            ["group_count"] = d.GroupCount, ["n_init"] = d.InitialWidth, ["n_hid"] = d.HiddenWidth, ["n_blk_per_group"] = d.BlocksPerGroup,
            ["output_channels"] = d.OutputChannels, ["vocab_size"] = d.VocabSize, ["upsampling"] = d.Upsampling, ["file"] = path,
        });
    }

    static long Count(TorchSharp.torch.nn.Module module) => module.parameters().Sum(p => p.numel());

    static string FileFormat(string path) => path.EndsWith(".pkl", StringComparison.OrdinalIgnoreCase) ? "pickle (openai/DALL-E module)" : "safetensors";

    /// <summary>A config value as one short line of text.</summary>
    public static string Show(object? value) => value switch
    {
        null => "-",
        string s => s,
        bool b => b ? "true" : "false",
        System.Collections.IDictionary d => string.Join(", ", d.Keys.Cast<object>().Select(k => $"{k} {Show(d[k])}")),
        System.Collections.IEnumerable e => "[" + string.Join(", ", e.Cast<object?>().Select(Show)) + "]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
