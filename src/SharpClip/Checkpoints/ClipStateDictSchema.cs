using System.Globalization;
using SharpClip.Modeling;
using static TorchSharp.torch;

namespace SharpClip.Checkpoints;

/// <summary>
/// The exact set of OpenAI-named tensors a <see cref="ClipConfig"/> has, with shapes — so a checkpoint can be checked
/// completely before a model is built (TorchSharp's load_state_dict broadcasts mismatched shapes silently and names no
/// keys) — and the reference's <c>build_model</c> inference of a config from a state dict's shapes.
/// </summary>
public static class ClipStateDictSchema
{
    /// <summary>
    /// Infers the architecture from tensor shapes exactly as <c>clip.model.build_model</c> does: ViT when
    /// <c>visual.proj</c> exists; widths, layer counts, patch size and resolution from shapes; heads = width/64
    /// (head width 64); QuickGELU. An MLP width other than 4× (open_clip's ViT-g) is read from the shapes too.
    /// Throws <see cref="InvalidDataException"/> naming <paramref name="source"/> and the key it needed.
    /// </summary>
    public static ClipConfig Infer(IReadOnlyDictionary<string, Tensor> stateDict, string source)
    {
        ClipConfig config;
        try { config = ClipConfig.InferFromStateDict(stateDict.ToDictionary(kv => kv.Key, kv => kv.Value.shape)); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{source}: {e.Message}", e); }
        try { return config.Validate(); }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: the tensor shapes do not describe a CLIP model the reference could build ({e.Message})", e);
        }
    }

    /// <summary>Every tensor an OpenAI-named CLIP of this shape has, with its shape. BatchNorm's
    /// <c>num_batches_tracked</c> is listed (shape []), though <see cref="Validate"/> lets it be absent.</summary>
    public static IReadOnlyDictionary<string, long[]> ExpectedShapes(ClipConfig c)
    {
        var e = new Dictionary<string, long[]>(StringComparer.Ordinal);
        int tw = c.TextWidth, d = c.EmbedDim;
        e["token_embedding.weight"] = [c.VocabSize, tw];
        e["positional_embedding"] = [c.ContextLength, tw];
        AddTransformer(e, "transformer.resblocks.", c.TextLayers, tw, 4 * tw);
        e["ln_final.weight"] = [tw];
        e["ln_final.bias"] = [tw];
        e["text_projection"] = [tw, d];
        e["logit_scale"] = [];

        int vw = c.VisionWidth;
        if (c.IsVisionTransformer)
        {
            int p = c.VisionPatchSize!.Value, grid = c.ImageResolution / p;
            e["visual.conv1.weight"] = [vw, 3, p, p];
            e["visual.class_embedding"] = [vw];
            e["visual.positional_embedding"] = [grid * grid + 1, vw];
            e["visual.ln_pre.weight"] = [vw];
            e["visual.ln_pre.bias"] = [vw];
            AddTransformer(e, "visual.transformer.resblocks.", c.VisionLayers[0], vw, c.VisionMlpWidth);
            e["visual.ln_post.weight"] = [vw];
            e["visual.ln_post.bias"] = [vw];
            e["visual.proj"] = [vw, d];
        }
        else
        {
            // Stem: three 3x3 convs (width/2, width/2, width) with BatchNorm, then the bottleneck stages.
            e["visual.conv1.weight"] = [vw / 2, 3, 3, 3];
            AddBatchNorm(e, "visual.bn1", vw / 2);
            e["visual.conv2.weight"] = [vw / 2, vw / 2, 3, 3];
            AddBatchNorm(e, "visual.bn2", vw / 2);
            e["visual.conv3.weight"] = [vw, vw / 2, 3, 3];
            AddBatchNorm(e, "visual.bn3", vw);
            int inplanes = vw;
            for (int stage = 0; stage < 4; stage++)
            {
                int planes = vw << stage;
                for (int block = 0; block < c.VisionLayers[stage]; block++)
                {
                    string b = $"visual.layer{stage + 1}.{block}.";
                    e[b + "conv1.weight"] = [planes, inplanes, 1, 1];
                    AddBatchNorm(e, b + "bn1", planes);
                    e[b + "conv2.weight"] = [planes, planes, 3, 3];
                    AddBatchNorm(e, b + "bn2", planes);
                    e[b + "conv3.weight"] = [planes * 4, planes, 1, 1];
                    AddBatchNorm(e, b + "bn3", planes * 4);
                    bool strided = block == 0 && stage > 0;
                    if (strided || inplanes != planes * 4)
                    {
                        e[b + "downsample.0.weight"] = [planes * 4, inplanes, 1, 1];
                        AddBatchNorm(e, b + "downsample.1", planes * 4);
                    }
                    inplanes = planes * 4;
                }
            }
            int embed = vw * 32, spatial = c.ImageResolution / 32;
            e["visual.attnpool.positional_embedding"] = [spatial * spatial + 1, embed];
            foreach (var proj in new[] { "q_proj", "k_proj", "v_proj" })
            {
                e[$"visual.attnpool.{proj}.weight"] = [embed, embed];
                e[$"visual.attnpool.{proj}.bias"] = [embed];
            }
            e["visual.attnpool.c_proj.weight"] = [d, embed];
            e["visual.attnpool.c_proj.bias"] = [d];
        }
        return e;
    }

    static void AddTransformer(Dictionary<string, long[]> e, string prefix, int layers, int width, int mlp)
    {
        for (int i = 0; i < layers; i++)
        {
            string b = prefix + i.ToString(CultureInfo.InvariantCulture) + ".";
            e[b + "attn.in_proj_weight"] = [3 * width, width];
            e[b + "attn.in_proj_bias"] = [3 * width];
            e[b + "attn.out_proj.weight"] = [width, width];
            e[b + "attn.out_proj.bias"] = [width];
            e[b + "ln_1.weight"] = [width];
            e[b + "ln_1.bias"] = [width];
            e[b + "mlp.c_fc.weight"] = [mlp, width];
            e[b + "mlp.c_fc.bias"] = [mlp];
            e[b + "mlp.c_proj.weight"] = [width, mlp];
            e[b + "mlp.c_proj.bias"] = [width];
            e[b + "ln_2.weight"] = [width];
            e[b + "ln_2.bias"] = [width];
        }
    }

    static void AddBatchNorm(Dictionary<string, long[]> e, string prefix, int channels)
    {
        e[prefix + ".weight"] = [channels];
        e[prefix + ".bias"] = [channels];
        e[prefix + ".running_mean"] = [channels];
        e[prefix + ".running_var"] = [channels];
        e[prefix + ".num_batches_tracked"] = [];
    }

    static bool IsOptional(string key) => key.EndsWith(".num_batches_tracked", StringComparison.Ordinal);

    /// <summary>
    /// Checks that <paramref name="stateDict"/> is exactly a <paramref name="config"/> CLIP: no missing key, no
    /// unexpected key, every shape equal, floating tensors floating (F16/BF16/F32/F64) and
    /// <c>num_batches_tracked</c> integral. All problems are reported together in one
    /// <see cref="InvalidDataException"/> naming <paramref name="source"/> and the keys.
    /// </summary>
    public static void Validate(IReadOnlyDictionary<string, Tensor> stateDict, ClipConfig config, string source, LayerCountFields? declaredIn = null)
    {
        config.RequireLayerCountsOf(stateDict.Keys, source, declaredIn);
        var expected = ExpectedShapes(config);
        var problems = new List<string>();
        foreach (var (key, shape) in expected)
        {
            if (!stateDict.TryGetValue(key, out var t))
            {
                if (!IsOptional(key)) problems.Add($"missing key '{key}'");
                continue;
            }
            if (!t.shape.SequenceEqual(shape))
                problems.Add($"key '{key}' has shape [{Join(t.shape)}], expected [{Join(shape)}]");
            bool wantIntegral = IsOptional(key);
            if (wantIntegral ? !is_integral(t.dtype) : !is_floating_point(t.dtype))
                problems.Add($"key '{key}' has dtype {t.dtype}, expected {(wantIntegral ? "an integer type" : "a floating-point type")}");
        }
        foreach (var key in stateDict.Keys.Where(k => !expected.ContainsKey(k)).Order(StringComparer.Ordinal))
            problems.Add($"unexpected key '{key}'");
        if (problems.Count == 0) return;
        const int shown = 12;
        var what = config.IsVisionTransformer ? $"ViT-{config.VisionPatchSize} CLIP" : "ModifiedResNet CLIP";
        throw new InvalidDataException(
            $"{source}: not a valid {what} state dict ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}): " +
            string.Join("; ", problems.Take(shown)) + (problems.Count > shown ? $"; ... and {problems.Count - shown} more" : ""));
    }

    static string Join(long[] s) => string.Join(",", s);
}
