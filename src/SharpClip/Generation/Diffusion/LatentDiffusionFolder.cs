using System.Text.Json;
using System.Text.Json.Nodes;
using SharpClip.Files;
using SharpClip.Generation.Diffusion.Autoencoder;
using SharpClip.Generation.Diffusion.Conditioning;
using SharpClip.Generation.Diffusion.Sampling;
using SharpClip.Generation.Diffusion.UNet;
using SharpClip.Modeling;
using SharpClip.Text;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion;

/// <summary>
/// A latent diffusion model trained by SharpClip (<c>sharpclip train-diffusion</c>), as a self-contained folder a
/// user can move: <c>latent_diffusion.json</c> (what it is: the U-Net and text encoder shapes in the reference's
/// names, the schedule, the latent scale factor, the image size), <c>unet.safetensors</c> (the published — EMA —
/// weights, keys as under SD's <c>model.diffusion_model.</c>), <c>autoencoder.safetensors</c> (the KL autoencoder, keys
/// as under <c>first_stage_model.</c>), <c>text_encoder.safetensors</c> (the frozen CLIP text tower it was trained
/// with, OpenAI names) and <c>bpe_vocab.txt.gz</c> (that CLIP's tokenizer). It runs through the same
/// <see cref="StableDiffusionPipeline"/> as a Stable Diffusion checkpoint.
/// </summary>
public static class LatentDiffusionFolder
{
    public const string ConfigFile = "latent_diffusion.json";
    public const string UNetFile = "unet.safetensors";
    public const string AutoencoderFile = "autoencoder.safetensors";
    public const string TextEncoderFile = "text_encoder.safetensors";
    public const string VocabFile = "bpe_vocab.txt.gz";

    /// <summary>The <c>kind</c> the config declares.</summary>
    public const string Kind = "latent-diffusion";

    /// <summary>Whether <paramref name="folder"/> declares itself a latent diffusion model folder.</summary>
    public static bool IsModelFolder(string folder) => Directory.Exists(folder) && File.Exists(System.IO.Path.Combine(folder, ConfigFile));

    /// <summary>What <c>latent_diffusion.json</c> says.</summary>
    /// <param name="Architecture">U-Net and text encoder shapes, schedule and scale factor.</param>
    /// <param name="ImageSize">The square side the model was trained at (the default output size).</param>
    /// <param name="TrainedWith">Where the CLIP and autoencoder came from (informational).</param>
    public sealed record Description(StableDiffusionConfig Architecture, int ImageSize, IReadOnlyDictionary<string, string> TrainedWith);

    /// <summary>Reads and checks <c>latent_diffusion.json</c>; every problem names the file and field.</summary>
    public static Description ReadConfig(string folder)
    {
        var path = System.IO.Path.Combine(folder, ConfigFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder}: not a latent diffusion model folder (no {ConfigFile})", path);
        using var doc = JsonFiles.Read(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: not a JSON object");
        if (!root.TryGetProperty("kind", out var kind) || kind.GetString() != Kind)
            throw new InvalidDataException($"{path}: field 'kind' must be \"{Kind}\"");
        foreach (var field in new[] { "latent_diffusion", "unet", "text" })
            if (!root.TryGetProperty(field, out var f) || f.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: no '{field}' object");
        var architecture = StableDiffusionConfig.FromJson(root, path);
        var ldm = root.GetProperty("latent_diffusion");
        if (!ldm.TryGetProperty("scale_factor", out var s) || s.ValueKind != JsonValueKind.Number || !(s.GetDouble() > 0))
            throw new InvalidDataException($"{path}: field 'latent_diffusion.scale_factor' must be a positive number");
        if (!ldm.TryGetProperty("image_size", out var size) || size.ValueKind != JsonValueKind.Number || size.GetInt32() <= 0)
            throw new InvalidDataException($"{path}: field 'latent_diffusion.image_size' must be a positive integer");
        var trainedWith = root.TryGetProperty("trained_with", out var t) && t.ValueKind == JsonValueKind.Object
            ? t.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString()) : [];
        return new Description(architecture, size.GetInt32(), trainedWith);
    }

    /// <summary>
    /// Writes the frozen parts once (autoencoder, text encoder, vocabulary) — the U-Net is written by
    /// <see cref="WriteUNet"/> at every checkpoint.
    /// </summary>
    public static void WriteFrozenParts(string folder, AutoencoderKL autoencoder, ConditioningTextEncoder text, BpeVocabulary vocabulary)
    {
        Directory.CreateDirectory(folder);
        using var scope = NewDisposeScope();
        SafeTensorsWriter.Write(System.IO.Path.Combine(folder, AutoencoderFile), autoencoder.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach()));
        SafeTensorsWriter.Write(System.IO.Path.Combine(folder, TextEncoderFile), text.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach()));
        vocabulary.SaveOpenAi(System.IO.Path.Combine(folder, VocabFile));
    }

    /// <summary>Writes the U-Net's weights and <c>latent_diffusion.json</c> (last, so a folder with a config is complete).</summary>
    public static void WriteUNet(string folder, IReadOnlyDictionary<string, Tensor> weights, UNetConfig unet, TextEncoderConfig text, NoiseSchedule schedule,
        (double Start, double End) linear, double scaleFactor, int imageSize, IReadOnlyDictionary<string, string> trainedWith)
    {
        SafeTensorsWriter.Write(System.IO.Path.Combine(folder, UNetFile), weights);
        var config = new JsonObject
        {
            ["kind"] = Kind,
            ["latent_diffusion"] = new JsonObject
            {
                ["parameterization"] = "eps", ["beta_schedule"] = "linear", ["linear_start"] = linear.Start, ["linear_end"] = linear.End,
                ["timesteps"] = schedule.Timesteps, ["scale_factor"] = scaleFactor, ["image_size"] = imageSize,
            },
            ["unet"] = new JsonObject
            {
                ["in_channels"] = unet.InChannels, ["out_channels"] = unet.OutChannels, ["model_channels"] = unet.ModelChannels,
                ["channel_mult"] = new JsonArray([.. unet.ChannelMult.Select(m => JsonValue.Create(m))]), ["num_res_blocks"] = unet.NumResBlocks,
                ["attention_resolutions"] = new JsonArray([.. unet.AttentionResolutions.Select(m => JsonValue.Create(m))]),
                ["num_heads"] = unet.NumHeads, ["num_head_channels"] = unet.NumHeadChannels, ["transformer_depth"] = unet.TransformerDepth,
                ["context_dim"] = unet.ContextDim, ["use_linear_in_transformer"] = unet.UseLinearInTransformer,
            },
            ["text"] = new JsonObject
            {
                ["vocab_size"] = text.VocabSize, ["max_position_embeddings"] = text.ContextLength, ["hidden_size"] = text.Width,
                ["num_hidden_layers"] = text.Layers, ["num_attention_heads"] = text.Heads, ["intermediate_size"] = text.MlpWidth,
                ["hidden_act"] = text.Activation == Activation.Gelu ? "gelu" : "quick_gelu",
            },
            ["trained_with"] = new JsonObject([.. trainedWith.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))]),
        };
        JsonFiles.WriteAtomic(System.IO.Path.Combine(folder, ConfigFile), config);
    }

    /// <summary>Loads the folder as a pipeline (float32, CPU, eval); every problem is one error naming the file (and key).</summary>
    public static StableDiffusionPipeline Load(string folder)
    {
        var description = ReadConfig(folder);
        var architecture = description.Architecture;
        string File(string name)
        {
            var path = System.IO.Path.Combine(folder, name);
            return System.IO.File.Exists(path) ? path : throw new FileNotFoundException($"{folder}: no {name}", path);
        }
        var tokenizer = ClipTokenizer.Load(File(VocabFile));
        UNetModel? unet = null;
        ConditioningTextEncoder? text = null;
        AutoencoderKL? autoencoder = null;
        try
        {
            unet = LoadWeights(UninitializedWeights.Build(() => new UNetModel(architecture.UNet!)), File(UNetFile));
            text = LoadWeights(UninitializedWeights.Build(() => new ConditioningTextEncoder(architecture.Text!)), File(TextEncoderFile));
            autoencoder = AutoencoderKL.Load(File(AutoencoderFile), scaleFactor: architecture.ScaleFactor, keyPrefix: "");
            var schedule = NoiseSchedule.Linear(architecture.LinearStart, architecture.LinearEnd, architecture.Timesteps);
            return StableDiffusionPipeline.FromParts(unet, text, autoencoder, tokenizer, schedule, folder);
        }
        catch
        {
            unet?.Dispose();
            text?.Dispose();
            autoencoder?.Dispose();
            throw;
        }
    }

    static T LoadWeights<T>(T model, string path) where T : nn.Module
    {
        using var file = SafeTensorsFile.Open(path);
        return StateDictLoader.LoadFresh(model, StateDictLoader.Entries(file), key => file.ReadTensor(key), path);
    }
}
