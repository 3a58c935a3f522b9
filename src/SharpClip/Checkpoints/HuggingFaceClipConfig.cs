using System.Text.Json;
using System.Text.Json.Nodes;
using SharpClip.Files;
using SharpClip.Modeling;

namespace SharpClip.Checkpoints;

/// <summary>
/// Hugging Face <c>CLIPConfig</c> (<c>config.json</c> with <c>model_type: "clip"</c>) ↔ <see cref="ClipConfig"/>.
/// Missing fields take transformers' defaults (CLIPTextConfig / CLIPVisionConfig), as transformers itself does.
/// Settings our architecture cannot express (a text MLP other than 4× the width, different activations per tower,
/// a LayerNorm epsilon other than 1e-5) are refused rather than silently ignored.
/// </summary>
public static class HuggingFaceClipConfig
{
    /// <summary>True when the JSON is a Hugging Face CLIP model config.</summary>
    public static bool IsClipConfig(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("model_type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "clip";

    public static ClipConfig Read(string path)
    {
        using var doc = JsonFiles.Read(path);
        return FromJson(doc.RootElement, path);
    }

    public static ClipConfig FromJson(JsonElement root, string source)
    {
        if (!IsClipConfig(root))
        {
            string type = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("model_type", out var t) ? t.ToString() : "(none)";
            throw new InvalidDataException($"{source}: model_type is '{type}', not 'clip' (only transformers' CLIPModel is supported)");
        }
        try
        {
            var text = Section(root, "text_config", source);
            var vision = Section(root, "vision_config", source);
            int Int(JsonElement? section, string name, int fallback, string where)
            {
                if (section is not { } s || !s.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
                if (v.ValueKind != JsonValueKind.Number) throw new InvalidDataException($"{source}: field '{where}.{name}' is not a number ({v.GetRawText()})");
                if (!v.TryGetInt32(out int n)) throw new InvalidDataException($"{source}: field '{where}.{name}' = {v.GetRawText()} is not a whole number that fits in 32 bits");
                if (n <= 0) throw new InvalidDataException($"{source}: field '{where}.{name}' = {n} must be positive");
                return n;
            }

            int textWidth = Int(text, "hidden_size", 512, "text_config");
            int textMlp = Int(text, "intermediate_size", 2048, "text_config");
            int textHeads = Int(text, "num_attention_heads", 8, "text_config");
            int visionWidth = Int(vision, "hidden_size", 768, "vision_config");
            int visionMlp = Int(vision, "intermediate_size", 3072, "vision_config");
            int visionHeads = Int(vision, "num_attention_heads", 12, "vision_config");
            int projection = Int(root, "projection_dim", 512, "config");

            if (textMlp != 4 * textWidth)
                throw new InvalidDataException($"{source}: field 'text_config.intermediate_size' = {textMlp} is not 4 x hidden_size {textWidth}, which SharpClip's text tower assumes");
            if (visionHeads <= 0 || visionWidth % visionHeads != 0)
                throw new InvalidDataException($"{source}: field 'vision_config.num_attention_heads' = {visionHeads} does not divide hidden_size {visionWidth}");
            var textAct = Act(text, source, "text_config");
            var visionAct = Act(vision, source, "vision_config");
            if (textAct != visionAct)
                throw new InvalidDataException($"{source}: fields 'text_config.hidden_act' and 'vision_config.hidden_act' differ; SharpClip uses one activation for both towers");
            CheckEps(text, source, "text_config");
            CheckEps(vision, source, "vision_config");

            double ratio = (double)visionMlp / visionWidth;
            while ((int)(visionWidth * ratio) < visionMlp) ratio = Math.BitIncrement(ratio);
            return new ClipConfig
            {
                EmbedDim = projection,
                ImageResolution = Int(vision, "image_size", 224, "vision_config"),
                VisionLayers = [Int(vision, "num_hidden_layers", 12, "vision_config")],
                VisionWidth = visionWidth,
                VisionPatchSize = Int(vision, "patch_size", 32, "vision_config"),
                VisionHeadWidth = visionWidth / visionHeads,
                VisionMlpRatio = ratio,
                ContextLength = Int(text, "max_position_embeddings", 77, "text_config"),
                VocabSize = Int(text, "vocab_size", 49408, "text_config"),
                TextWidth = textWidth,
                TextHeads = textHeads,
                TextLayers = Int(text, "num_hidden_layers", 12, "text_config"),
                Activation = textAct,
            }.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: inconsistent CLIP config ({e.Message})", e);
        }
    }

    // A missing section means the defaults; one that is not an object (an array, a number) is a broken file, not defaults.
    static JsonElement? Section(JsonElement root, string name, string source)
    {
        if (!root.TryGetProperty(name, out var s) || s.ValueKind == JsonValueKind.Null) return null;
        if (s.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{source}: field '{name}' must be an object, got {s.ValueKind.ToString().ToLowerInvariant()} {Shorten(s.GetRawText())}");
        return s;
    }

    static string Shorten(string json) => json.Length <= 40 ? json : json[..40] + "...";

    static Activation Act(JsonElement? section, string source, string where)
    {
        if (section is not { } s || !s.TryGetProperty("hidden_act", out var a) || a.ValueKind == JsonValueKind.Null) return Activation.QuickGelu;
        if (a.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{source}: field '{where}.hidden_act' is not a string ({a.GetRawText()})");
        return a.GetString() switch
        {
            "quick_gelu" => Activation.QuickGelu,
            "gelu" => Activation.Gelu,
            var other => throw new InvalidDataException($"{source}: field '{where}.hidden_act' = '{other}' is not supported (quick_gelu or gelu)"),
        };
    }

    static void CheckEps(JsonElement? section, string source, string where)
    {
        if (section is not { } s || !s.TryGetProperty("layer_norm_eps", out var e) || e.ValueKind == JsonValueKind.Null) return;
        if (e.ValueKind != JsonValueKind.Number) throw new InvalidDataException($"{source}: field '{where}.layer_norm_eps' is not a number ({e.GetRawText()})");
        if (Math.Abs(e.GetDouble() - 1e-5) > 1e-12)
            throw new InvalidDataException($"{source}: field '{where}.layer_norm_eps' = {e.GetDouble()} differs from CLIP's 1e-5");
    }

    /// <summary>
    /// A transformers-loadable <c>config.json</c> for a ViT <paramref name="config"/>. Throws
    /// <see cref="NotSupportedException"/> for a ModifiedResNet (transformers has no ResNet CLIP).
    /// </summary>
    public static JsonObject ToJson(ClipConfig config, string torchDtype = "float32")
    {
        if (!config.IsVisionTransformer)
            throw new NotSupportedException("a ModifiedResNet CLIP has no Hugging Face transformers equivalent; export a SharpClip folder instead");
        string act = config.Activation == Activation.Gelu ? "gelu" : "quick_gelu";
        return new JsonObject
        {
            ["architectures"] = new JsonArray("CLIPModel"),
            ["model_type"] = "clip",
            ["projection_dim"] = config.EmbedDim,
            ["logit_scale_init_value"] = 2.6592,
            ["initializer_factor"] = 1.0,
            ["torch_dtype"] = torchDtype,
            ["text_config"] = new JsonObject
            {
                ["model_type"] = "clip_text_model",
                ["vocab_size"] = config.VocabSize,
                ["hidden_size"] = config.TextWidth,
                ["intermediate_size"] = 4 * config.TextWidth,
                ["num_hidden_layers"] = config.TextLayers,
                ["num_attention_heads"] = config.TextHeads,
                ["max_position_embeddings"] = config.ContextLength,
                ["hidden_act"] = act,
                ["layer_norm_eps"] = 1e-5,
                ["projection_dim"] = config.EmbedDim,
                // The text features are taken at the first end-of-text token, as the reference's argmax over ids does.
                ["bos_token_id"] = 49406,
                ["eos_token_id"] = 49407,
            },
            ["vision_config"] = new JsonObject
            {
                ["model_type"] = "clip_vision_model",
                ["hidden_size"] = config.VisionWidth,
                ["intermediate_size"] = config.VisionMlpWidth,
                ["num_hidden_layers"] = config.VisionLayers[0],
                ["num_attention_heads"] = config.VisionHeads,
                ["image_size"] = config.ImageResolution,
                ["patch_size"] = config.VisionPatchSize,
                ["num_channels"] = 3,
                ["hidden_act"] = act,
                ["layer_norm_eps"] = 1e-5,
                ["projection_dim"] = config.EmbedDim,
            },
        };
    }
}
