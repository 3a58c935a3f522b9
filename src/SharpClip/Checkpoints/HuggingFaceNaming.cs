using System.Globalization;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace SharpClip.Checkpoints;

/// <summary>
/// Maps Hugging Face transformers' <c>CLIPModel</c> parameter names onto the OpenAI names our modules use, and back.
/// The differences: separate q/k/v projections vs one packed <c>in_proj</c> ([3W, W], rows q then k then v), the
/// projections stored as bias-free Linear weights [D, W] vs matrices [W, D] (so transposed), and renamed norms
/// (HF spells the pre-norm <c>pre_layrnorm</c>). Hugging Face has no ResNet CLIP, so only ViT models map.
/// All outputs are new tensor handles owned by the caller; inputs are never modified.
/// </summary>
public static partial class HuggingFaceNaming
{
    // HF name -> OpenAI name for everything outside the encoder layers.
    static readonly Dictionary<string, string> Fixed = new(StringComparer.Ordinal)
    {
        ["vision_model.embeddings.patch_embedding.weight"] = "visual.conv1.weight",
        ["vision_model.embeddings.class_embedding"] = "visual.class_embedding",
        ["vision_model.embeddings.position_embedding.weight"] = "visual.positional_embedding",
        ["vision_model.pre_layrnorm.weight"] = "visual.ln_pre.weight",
        ["vision_model.pre_layrnorm.bias"] = "visual.ln_pre.bias",
        ["vision_model.post_layernorm.weight"] = "visual.ln_post.weight",
        ["vision_model.post_layernorm.bias"] = "visual.ln_post.bias",
        ["visual_projection.weight"] = "visual.proj",
        ["text_model.embeddings.token_embedding.weight"] = "token_embedding.weight",
        ["text_model.embeddings.position_embedding.weight"] = "positional_embedding",
        ["text_model.final_layer_norm.weight"] = "ln_final.weight",
        ["text_model.final_layer_norm.bias"] = "ln_final.bias",
        ["text_projection.weight"] = "text_projection",
        ["logit_scale"] = "logit_scale",
    };

    // Inside a layer: HF suffix -> OpenAI suffix (q/k/v handled separately).
    static readonly Dictionary<string, string> LayerParts = new(StringComparer.Ordinal)
    {
        ["self_attn.out_proj.weight"] = "attn.out_proj.weight",
        ["self_attn.out_proj.bias"] = "attn.out_proj.bias",
        ["layer_norm1.weight"] = "ln_1.weight",
        ["layer_norm1.bias"] = "ln_1.bias",
        ["layer_norm2.weight"] = "ln_2.weight",
        ["layer_norm2.bias"] = "ln_2.bias",
        ["mlp.fc1.weight"] = "mlp.c_fc.weight",
        ["mlp.fc1.bias"] = "mlp.c_fc.bias",
        ["mlp.fc2.weight"] = "mlp.c_proj.weight",
        ["mlp.fc2.bias"] = "mlp.c_proj.bias",
    };

    static readonly string[] Towers = ["vision_model", "text_model"];
    static readonly string[] Qkv = ["q", "k", "v"];

    [GeneratedRegex(@"^(vision_model|text_model)\.encoder\.layers\.(\d+)\.(.+)$")]
    private static partial Regex LayerKey();

    [GeneratedRegex(@"^(visual\.transformer|transformer)\.resblocks\.(\d+)\.(.+)$")]
    private static partial Regex ResblockKey();

    /// <summary>True when the keys are Hugging Face CLIP names (a <c>vision_model.</c>/<c>text_model.</c> tower).</summary>
    public static bool IsHuggingFace(IEnumerable<string> keys) =>
        keys.Any(k => k.StartsWith("vision_model.", StringComparison.Ordinal) || k.StartsWith("text_model.", StringComparison.Ordinal));

    static string OpenAIPrefix(string tower) => tower == "vision_model" ? "visual.transformer.resblocks." : "transformer.resblocks.";

    /// <summary>
    /// HF <c>CLIPModel</c> names → OpenAI names. <c>position_ids</c> buffers are dropped (added to
    /// <paramref name="dropped"/>); keys that are not part of HF's CLIP pass through under their own name so the
    /// schema check reports them. A layer with only some of q/k/v fails naming the missing key.
    /// </summary>
    public static Dictionary<string, Tensor> ToOpenAI(IReadOnlyDictionary<string, Tensor> hf, string source, List<string> dropped)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        // (tower, layer, "weight"|"bias") -> q, k, v
        var pending = new Dictionary<(string Tower, int Layer, string Kind), Tensor?[]>();
        try
        {
            foreach (var (key, t) in hf)
            {
                if (key.EndsWith("embeddings.position_ids", StringComparison.Ordinal)) { dropped.Add(key); continue; }
                if (Fixed.TryGetValue(key, out var name))
                {
                    Add(result, name, name is "visual.proj" or "text_projection" ? Transposed(t, key, source) : t.alias(), key, source);
                    continue;
                }
                var m = LayerKey().Match(key);
                if (m.Success)
                {
                    string tower = m.Groups[1].Value, part = m.Groups[3].Value;
                    int layer = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
                    if (LayerParts.TryGetValue(part, out var suffix))
                    {
                        Add(result, $"{OpenAIPrefix(tower)}{layer}.{suffix}", t.alias(), key, source);
                        continue;
                    }
                    int qkv = Array.FindIndex(Qkv, p => part == $"self_attn.{p}_proj.weight" || part == $"self_attn.{p}_proj.bias");
                    if (qkv >= 0)
                    {
                        var slot = (tower, layer, part.EndsWith("weight", StringComparison.Ordinal) ? "weight" : "bias");
                        if (!pending.TryGetValue(slot, out var parts)) pending[slot] = parts = new Tensor?[3];
                        parts[qkv] = t;
                        continue;
                    }
                }
                Add(result, key, t.alias(), key, source); // unknown: keep its name so validation can point at it
            }

            foreach (var ((tower, layer, kind), parts) in pending.OrderBy(p => p.Key.Tower).ThenBy(p => p.Key.Layer).ThenBy(p => p.Key.Kind))
            {
                for (int i = 0; i < 3; i++)
                    if (parts[i] is null)
                        throw new InvalidDataException($"{source}: missing key '{tower}.encoder.layers.{layer}.self_attn.{Qkv[i]}_proj.{kind}' " +
                                                       "(q, k and v projections are packed together)");
                var shape = parts[0]!.shape;
                if (parts.Any(p => !p!.shape.SequenceEqual(shape) || p.dtype != parts[0]!.dtype))
                    throw new InvalidDataException($"{source}: q/k/v {kind}s of {tower} layer {layer} differ in shape or dtype");
                // [3W, W] / [3W]: q rows, then k, then v — nn.MultiheadAttention's packing.
                Add(result, $"{OpenAIPrefix(tower)}{layer}.attn.in_proj_{kind}", cat(parts!, 0), $"{tower}.encoder.layers.{layer}.self_attn", source);
            }
            return result;
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>
    /// OpenAI names → HF <c>CLIPModel</c> names (the inverse of <see cref="ToOpenAI"/>), for exporting a model that
    /// transformers can load. Throws <see cref="NotSupportedException"/> for a ModifiedResNet: HF has no such model.
    /// </summary>
    public static Dictionary<string, Tensor> FromOpenAI(IReadOnlyDictionary<string, Tensor> openai, string source = "state dict")
    {
        if (openai.Keys.Any(k => k.StartsWith("visual.layer1.", StringComparison.Ordinal) || k.StartsWith("visual.attnpool.", StringComparison.Ordinal)))
            throw new NotSupportedException($"{source}: a ModifiedResNet CLIP cannot be exported to Hugging Face format (transformers has no ResNet CLIP); use the SharpClip folder or safetensors");
        var inverse = Fixed.ToDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);
        var inverseParts = LayerParts.ToDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (key, t) in openai)
            {
                if (inverse.TryGetValue(key, out var hfName))
                {
                    Add(result, hfName, key is "visual.proj" or "text_projection" ? Transposed(t, key, source) : t.alias(), key, source);
                    continue;
                }
                var m = ResblockKey().Match(key);
                if (!m.Success)
                    throw new InvalidDataException($"{source}: key '{key}' has no Hugging Face CLIP equivalent");
                string tower = m.Groups[1].Value == "visual.transformer" ? "vision_model" : "text_model";
                string layerPrefix = $"{tower}.encoder.layers.{m.Groups[2].Value}.";
                string part = m.Groups[3].Value;
                if (inverseParts.TryGetValue(part, out var hfPart))
                {
                    Add(result, layerPrefix + hfPart, t.alias(), key, source);
                }
                else if (part is "attn.in_proj_weight" or "attn.in_proj_bias")
                {
                    string kind = part.EndsWith("weight", StringComparison.Ordinal) ? "weight" : "bias";
                    if (t.shape[0] % 3 != 0) throw new InvalidDataException($"{source}: '{key}' has {t.shape[0]} rows, not a multiple of 3");
                    long w = t.shape[0] / 3;
                    for (int i = 0; i < 3; i++)
                    {
                        using var rows = t.narrow(0, i * w, w);
                        Add(result, $"{layerPrefix}self_attn.{Qkv[i]}_proj.{kind}", rows.contiguous(), key, source);
                    }
                }
                else throw new InvalidDataException($"{source}: key '{key}' has no Hugging Face CLIP equivalent");
            }
            return result;
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
    }

    static Tensor Transposed(Tensor t, string key, string source)
    {
        if (t.dim() != 2) throw new InvalidDataException($"{source}: '{key}' should be 2-D, has shape [{string.Join(",", t.shape)}]");
        using var view = t.t();
        return view.contiguous();
    }

    static void Add(Dictionary<string, Tensor> result, string name, Tensor value, string from, string source)
    {
        if (result.TryAdd(name, value)) return;
        value.Dispose();
        throw new InvalidDataException($"{source}: '{from}' maps to '{name}', which another key already produced");
    }
}
