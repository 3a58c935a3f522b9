using System.Text.Json.Nodes;
using SharpClip.Checkpoints;
using SharpClip.Files;
using SharpClip.Generation.Diffusion.Sampling;
using SharpClip.Modeling;
using SharpClip.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Diffusers;

/// <summary>
/// <c>sharpclip convert</c> for Stable Diffusion: any checkpoint SharpClip reads, written as a diffusers folder. That
/// layout is SharpClip's Stable Diffusion folder: it says in its configs what a single file cannot (heads, scale
/// factor, schedule, prediction, pad token, the vocabulary itself), SharpClip reads it back to the same numbers, and
/// diffusers and the tools built on it read it too. U-Net and autoencoder tensors keep their stored dtype under
/// diffusers' names (<see cref="DiffusersNaming"/>); the text tower is written as an HF <c>CLIPTextModel</c> in
/// float32, and an SD 2.x OpenCLIP tower that conditions on its penultimate layer is written without its last layer,
/// as diffusers' own conversion does, so the folder's default clip skip of 1 gives the same states.
/// </summary>
public static class DiffusersFolderWriter
{
    /// <summary>Writes <paramref name="checkpoint"/> to <paramref name="destination"/> (staged, then moved into place).</summary>
    /// <param name="checkpoint">An opened checkpoint.</param>
    /// <param name="destination">The folder to write.</param>
    /// <param name="vocabPath">The BPE vocabulary for <c>tokenizer/</c>; null uses the checkpoint's own (a folder's) or none.</param>
    /// <param name="overwrite">Replace an existing folder.</param>
    public static void Write(StableDiffusionCheckpoint checkpoint, string destination, string? vocabPath, bool overwrite)
    {
        if (checkpoint.Schedule.AlphasCumprod64.Count == 0)
            throw new InvalidDataException($"{checkpoint.Path}: its alphas_cumprod is not a linear schedule; a diffusers scheduler config cannot describe it");
        var unet = checkpoint.UNetConfig;
        var vae = checkpoint.AutoencoderConfig;
        vocabPath ??= checkpoint.TokenizerPath;
        StagedFolder.Write(destination, overwrite, "model_index.json", dir =>
        {
            var unetNaming = DiffusersNaming.ForUNet(unet);
            WritePart(checkpoint, Path.Combine(dir, DiffusersFolder.UNetFolder), StableDiffusionCheckpoint.UNetPrefix,
                k => unetNaming.ToDiffusers(k), _ => false);
            var vaeNaming = DiffusersNaming.ForAutoencoder(vae);
            WritePart(checkpoint, Path.Combine(dir, DiffusersFolder.VaeFolder), StableDiffusionCheckpoint.AutoencoderPrefix,
                k => vaeNaming.ToDiffusers(k), vaeNaming.IsLinearInDiffusers);
            var text = WriteTextEncoder(checkpoint, Path.Combine(dir, DiffusersFolder.TextFolder));

            int levels = unet.ChannelMult.Count;
            var widths = unet.ChannelMult.Select(m => m * unet.ModelChannels).ToArray();
            var down = Enumerable.Range(0, levels).Select(i => unet.AttentionResolutions.Contains(1 << i) ? "CrossAttnDownBlock2D" : "DownBlock2D").ToArray();
            Json(Path.Combine(dir, DiffusersFolder.UNetFolder, DiffusersFolder.ConfigFile), new JsonObject
            {
                ["_class_name"] = "UNet2DConditionModel", ["in_channels"] = unet.InChannels, ["out_channels"] = unet.OutChannels,
                ["block_out_channels"] = Array(widths), ["layers_per_block"] = unet.NumResBlocks,
                ["down_block_types"] = Array(down), ["up_block_types"] = Array(down.Reverse().Select(d => d.Replace("Down", "Up", StringComparison.Ordinal))),
                // diffusers' attention_head_dim is the head count: one number, or one per level for a fixed head width.
                ["attention_head_dim"] = unet.NumHeadChannels == -1 ? unet.NumHeads : Array(widths.Select(w => w / unet.NumHeadChannels)),
                ["cross_attention_dim"] = unet.ContextDim, ["use_linear_projection"] = unet.UseLinearInTransformer,
                ["transformer_layers_per_block"] = unet.TransformerDepth, ["flip_sin_to_cos"] = true, ["freq_shift"] = 0,
                ["act_fn"] = "silu", ["norm_num_groups"] = 32, ["norm_eps"] = 1e-5,
                ["sample_size"] = 64,
            });
            Json(Path.Combine(dir, DiffusersFolder.VaeFolder, DiffusersFolder.ConfigFile), new JsonObject
            {
                ["_class_name"] = "AutoencoderKL", ["in_channels"] = vae.InChannels, ["out_channels"] = vae.OutChannels,
                ["block_out_channels"] = Array(vae.ChannelMultipliers.Select(m => m * vae.Channels)), ["layers_per_block"] = vae.ResBlocks,
                ["down_block_types"] = Array(Enumerable.Range(0, vae.Levels).Select(i => vae.AttentionLevels.Contains(i) ? "AttnDownEncoderBlock2D" : "DownEncoderBlock2D")),
                ["up_block_types"] = Array(Enumerable.Range(0, vae.Levels).Reverse().Select(i => vae.AttentionLevels.Contains(i) ? "AttnUpDecoderBlock2D" : "UpDecoderBlock2D")),
                ["latent_channels"] = vae.EmbedDim, ["act_fn"] = "silu", ["norm_num_groups"] = 32, ["scaling_factor"] = checkpoint.ScaleFactor,
                ["sample_size"] = 64 * vae.DownsampleFactor,
            });
            Json(Path.Combine(dir, DiffusersFolder.TextFolder, DiffusersFolder.ConfigFile), new JsonObject
            {
                ["architectures"] = Array(["CLIPTextModel"]), ["model_type"] = "clip_text_model", ["vocab_size"] = text.VocabSize,
                ["hidden_size"] = text.Width, ["intermediate_size"] = text.MlpWidth, ["num_hidden_layers"] = text.Layers,
                ["num_attention_heads"] = text.Heads, ["max_position_embeddings"] = text.ContextLength,
                ["hidden_act"] = text.Activation == Activation.Gelu ? "gelu" : "quick_gelu", ["layer_norm_eps"] = 1e-5, ["torch_dtype"] = "float32",
            });
            Directory.CreateDirectory(Path.Combine(dir, DiffusersFolder.SchedulerFolder));
            Json(Path.Combine(dir, DiffusersFolder.SchedulerFolder, DiffusersFolder.SchedulerConfigFile), new JsonObject
            {
                ["_class_name"] = "DDIMScheduler", ["beta_start"] = checkpoint.LinearBetas.Start, ["beta_end"] = checkpoint.LinearBetas.End,
                ["beta_schedule"] = "scaled_linear", ["num_train_timesteps"] = checkpoint.Schedule.Timesteps,
                ["prediction_type"] = checkpoint.Prediction == Prediction.V ? "v_prediction" : "epsilon",
                ["steps_offset"] = 1, ["set_alpha_to_one"] = false, ["clip_sample"] = false,
            });
            if (vocabPath is not null)
            {
                var tokenizer = Path.Combine(dir, DiffusersFolder.TokenizerFolder);
                BpeVocabulary.Load(vocabPath).SaveHuggingFace(tokenizer);
                // SD 1.x's CLIPTokenizer pads with <|endoftext|>; SD 2.x's with "!" (id 0, open_clip's zero padding).
                string pad = checkpoint.OpenClipText ? "!" : "<|endoftext|>";
                Json(Path.Combine(tokenizer, "special_tokens_map.json"), new JsonObject
                {
                    ["bos_token"] = "<|startoftext|>", ["eos_token"] = "<|endoftext|>", ["unk_token"] = "<|endoftext|>", ["pad_token"] = pad,
                });
            }
            Json(Path.Combine(dir, "model_index.json"), new JsonObject
            {
                ["_class_name"] = "StableDiffusionPipeline",
                ["unet"] = Array(["diffusers", "UNet2DConditionModel"]), ["vae"] = Array(["diffusers", "AutoencoderKL"]),
                ["text_encoder"] = Array(["transformers", "CLIPTextModel"]), ["tokenizer"] = Array(["transformers", "CLIPTokenizer"]),
                ["scheduler"] = Array(["diffusers", "DDIMScheduler"]),
            });
        });
    }

    static void WritePart(StableDiffusionCheckpoint checkpoint, string dir, string prefix, Func<string, string?> toDiffusers, Func<string, bool> linear)
    {
        Directory.CreateDirectory(dir);
        using var scope = torch.NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var key in checkpoint.KeysUnder(prefix))
        {
            var local = key[prefix.Length..];
            var name = toDiffusers(local) ?? throw new InvalidDataException($"{checkpoint.Path}: key '{key}' has no diffusers name");
            var t = checkpoint.ReadTensor(key);
            tensors[name] = linear(local) && t.dim() == 4 ? t.flatten(1) : t;                 // [C, C, 1, 1] → [C, C]
        }
        SafeTensorsWriter.Write(Path.Combine(dir, "diffusion_pytorch_model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    static Conditioning.TextEncoderConfig WriteTextEncoder(StableDiffusionCheckpoint checkpoint, string dir)
    {
        Directory.CreateDirectory(dir);
        using var model = checkpoint.LoadTextEncoder();
        var config = model.Config;
        // A tower read at its penultimate layer by default is written without its last one (diffusers' SD 2.x layout).
        int drop = checkpoint.DefaultClipSkip - 1;
        using var scope = torch.NewDisposeScope();
        var openai = model.state_dict().Where(kv => !DroppedLayer(kv.Key, config.Layers, drop)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var hf = HuggingFaceNaming.FromOpenAI(openai, checkpoint.Path);
        SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), hf, new Dictionary<string, string> { ["format"] = "pt" });
        return config with { Layers = config.Layers - drop };
    }

    static bool DroppedLayer(string key, int layers, int drop) =>
        Enumerable.Range(layers - drop, drop).Any(i => key.StartsWith($"transformer.resblocks.{i}.", StringComparison.Ordinal));

    static JsonArray Array<T>(IEnumerable<T> values) => new([.. values.Select(v => JsonValue.Create(v))]);

    static void Json(string path, JsonObject json) => File.WriteAllText(path, json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
}
