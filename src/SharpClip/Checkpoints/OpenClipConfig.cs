using System.Text.Json;
using SharpClip.Files;
using SharpClip.Modeling;
using SharpClip.Vision;

namespace SharpClip.Checkpoints;

/// <summary>
/// open_clip's hub config (<c>open_clip_config.json</c>: <c>model_cfg</c> with <c>vision_cfg</c>/<c>text_cfg</c>, and
/// <c>preprocess_cfg</c>) → <see cref="ClipConfig"/> + <see cref="PreprocessingInfo"/>. Defaults are open_clip's
/// (CLIPVisionCfg / CLIPTextCfg); note open_clip's activation is plain GELU unless <c>quick_gelu</c> is true.
/// Features our architecture does not have (timm or HF towers, layer scale, attentional pooling, other pooling)
/// are refused by name.
/// </summary>
public static class OpenClipConfig
{
    public const string FileName = "open_clip_config.json";

    public static (ClipConfig Config, PreprocessingInfo? Preprocessing) Read(string path)
    {
        using var doc = JsonFiles.Read(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model_cfg", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: no 'model_cfg' object");
        try
        {
            var config = FromModelCfg(model, path);
            var pre = root.TryGetProperty("preprocess_cfg", out var p) && p.ValueKind == JsonValueKind.Object
                ? Preprocessing(p, path, config.ImageResolution) : null;
            return (config, pre);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: malformed open_clip config ({e.Message})", e);
        }
    }

    static ClipConfig FromModelCfg(JsonElement model, string path)
    {
        var vision = Object(model, "vision_cfg");
        var text = Object(model, "text_cfg");
        Refuse(model, "model_cfg", path, "init_logit_bias");
        Refuse(vision, "vision_cfg", path, "timm_model_name", "ls_init_value", "act_kwargs", "norm_kwargs");
        Refuse(text, "text_cfg", path, "hf_model_name", "ls_init_value", "act_kwargs", "norm_kwargs");
        RequireFlag(vision, "vision_cfg", "attentional_pool", false, path);
        RequireFlag(vision, "vision_cfg", "no_ln_pre", false, path);
        RequireFlag(vision, "vision_cfg", "final_ln_after_pool", false, path);
        RequireFlag(text, "text_cfg", "proj_bias", false, path);
        RequireFlag(text, "text_cfg", "no_causal_mask", false, path);
        RequireFlag(text, "text_cfg", "embed_cls", false, path);
        RequireString(vision, "vision_cfg", "pool_type", "tok", path);
        RequireString(text, "text_cfg", "pool_type", "argmax", path);
        if (Double(text, "mlp_ratio", 4.0) != 4.0)
            throw new InvalidDataException($"{path}: field 'text_cfg.mlp_ratio' must be 4 for SharpClip's text tower");

        int width = Int(vision, "width", 768);
        int? patch = Has(vision, "patch_size", out var ps) && ps.ValueKind == JsonValueKind.Number ? ps.GetInt32() : null;
        int[] layers = Has(vision, "layers", out var l) && l.ValueKind == JsonValueKind.Array
            ? l.EnumerateArray().Select(x => x.GetInt32()).ToArray()
            : [Int(vision, "layers", 12)];
        bool resnet = layers.Length == 4;
        if (!resnet) patch ??= 16;
        int imageSize = Has(vision, "image_size", out var im) && im.ValueKind == JsonValueKind.Array
            ? Square(im, path, "vision_cfg.image_size") : Int(vision, "image_size", 224);
        double mlpRatio = Double(vision, "mlp_ratio", 4.0);
        double ratio = mlpRatio;
        int mlp = (int)(width * mlpRatio);
        while ((int)(width * ratio) < mlp) ratio = Math.BitIncrement(ratio);
        try
        {
            return new ClipConfig
            {
                EmbedDim = Int(model, "embed_dim", 512),
                ImageResolution = imageSize,
                VisionLayers = layers,
                VisionWidth = width,
                VisionPatchSize = resnet ? null : patch,
                VisionHeadWidth = Int(vision, "head_width", 64),
                VisionMlpRatio = ratio,
                ContextLength = Int(text, "context_length", 77),
                VocabSize = Int(text, "vocab_size", 49408),
                TextWidth = Int(text, "width", 512),
                TextHeads = Int(text, "heads", 8),
                TextLayers = Int(text, "layers", 12),
                Activation = Has(model, "quick_gelu", out var q) && q.ValueKind == JsonValueKind.True ? Activation.QuickGelu : Activation.Gelu,
            }.Validate();
        }
        catch (ArgumentException e) { throw new InvalidDataException($"{path}: inconsistent open_clip model_cfg ({e.Message})", e); }
    }

    static PreprocessingInfo Preprocessing(JsonElement p, string path, int imageSize)
    {
        if (p.TryGetProperty("resize_mode", out var rm) && rm.GetString() is { } mode && mode != "shortest")
            throw new InvalidDataException($"{path}: preprocess_cfg.resize_mode '{mode}' is not supported (only 'shortest', CLIP's resize + centre crop)");
        int size = p.TryGetProperty("size", out var s)
            ? s.ValueKind == JsonValueKind.Array ? Square(s, path, "preprocess_cfg.size") : s.GetInt32()
            : imageSize;
        var info = PreprocessingInfo.ForResolution(size);
        if (p.TryGetProperty("mean", out var m)) info = info with { Mean = m.EnumerateArray().Select(x => x.GetSingle()).ToArray() };
        if (p.TryGetProperty("std", out var sd)) info = info with { Std = sd.EnumerateArray().Select(x => x.GetSingle()).ToArray() };
        if (p.TryGetProperty("interpolation", out var ip) && ip.GetString() is { } interp) info = info with { Resample = PreprocessingInfo.ResampleNamed(interp, path, "preprocess_cfg.interpolation") };
        return info.Validate(path);
    }

    static bool Has(JsonElement e, string name, out JsonElement value)
    {
        value = default;
        return e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out value);
    }

    static JsonElement Object(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.Object ? e : default;

    static int Int(JsonElement e, string name, int fallback) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : fallback;

    static double Double(JsonElement e, string name, double fallback) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : fallback;

    static int Square(JsonElement a, string path, string field)
    {
        var v = a.EnumerateArray().Select(x => x.GetInt32()).ToArray();
        return v.Length == 2 && v[0] == v[1] ? v[0] : throw new InvalidDataException($"{path}: field '{field}' is not square");
    }

    static void Refuse(JsonElement e, string where, string path, params string[] names)
    {
        if (e.ValueKind != JsonValueKind.Object) return;
        foreach (var n in names)
            if (e.TryGetProperty(n, out var v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
                throw new InvalidDataException($"{path}: field '{where}.{n}' names a feature SharpClip's CLIP architecture does not have");
    }

    static void RequireFlag(JsonElement e, string where, string name, bool expected, string path)
    {
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False &&
            v.GetBoolean() != expected)
            throw new InvalidDataException($"{path}: field '{where}.{name}' = {v.GetBoolean()} is not supported");
    }

    static void RequireString(JsonElement e, string where, string name, string expected, string path)
    {
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() != expected)
            throw new InvalidDataException($"{path}: field '{where}.{name}' = '{v.GetString()}' is not supported (only '{expected}')");
    }
}
