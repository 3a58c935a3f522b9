using System.Text.Json;
using SharpClip.Generation.Diffusion.Autoencoder;
using SharpClip.Generation.Diffusion.UNet;

namespace SharpClip.Generation.Diffusion.Diffusers;

/// <summary>
/// The configs of a diffusers Stable Diffusion folder read into SharpClip's types: <c>unet/config.json</c>
/// (<c>UNet2DConditionModel</c>), <c>vae/config.json</c> (<c>AutoencoderKL</c>) and
/// <c>scheduler/scheduler_config.json</c>. A value SharpClip's models cannot honour is refused with the file and
/// field, never ignored: a run would silently not be the model's.
/// </summary>
public static class DiffusersConfigs
{
    /// <summary>
    /// The U-Net of a <c>UNet2DConditionModel</c> config. diffusers' <c>attention_head_dim</c> is, for SD, the number
    /// of heads (a naming slip diffusers keeps for compatibility; <c>num_attention_heads</c> wins when set): one number
    /// is SD 1.x's fixed heads, a per-level list whose widths all come out equal (SD 2.x: [5, 10, 20, 20] over
    /// [320, 640, 1280, 1280]) is a fixed head width.
    /// </summary>
    public static UNetConfig UNet(JsonElement json, string source)
    {
        var r = new Reader(json, source);
        r.Require("flip_sin_to_cos", true, v => v.ValueKind == JsonValueKind.True, "true (cos first, as ldm)");
        r.Require("freq_shift", 0, v => v.ValueKind == JsonValueKind.Number && v.GetDouble() == 0, "0");
        r.Require("act_fn", "silu", v => v.GetString() == "silu", "silu");
        r.Require("norm_num_groups", 32, v => v.ValueKind == JsonValueKind.Number && v.GetInt32() == 32, "32");
        r.Require("resnet_time_scale_shift", "default", v => v.GetString() == "default", "default");
        r.Require("mid_block_type", "UNetMidBlock2DCrossAttn", v => v.GetString() == "UNetMidBlock2DCrossAttn", "UNetMidBlock2DCrossAttn");
        r.Require("time_embedding_type", "positional", v => v.GetString() == "positional", "positional");
        foreach (var absent in new[] { "class_embed_type", "addition_embed_type", "encoder_hid_dim", "num_class_embeds" })
            r.Require(absent, null, v => v.ValueKind == JsonValueKind.Null, "null (SD's text-only conditioning)");
        r.Require("only_cross_attention", false, v => v.ValueKind == JsonValueKind.False, "false");
        r.Require("dual_cross_attention", false, v => v.ValueKind == JsonValueKind.False, "false");

        var widths = r.Ints("block_out_channels", required: true)!;
        int mc = widths[0];
        if (widths.Any(w => w <= 0 || w % mc != 0)) throw r.Bad("block_out_channels", $"[{string.Join(",", widths)}] must be positive multiples of the first");
        int levels = widths.Length;
        var down = r.Strings("down_block_types", levels);
        var up = r.Strings("up_block_types", levels);
        var attention = new List<int>();
        for (int i = 0; i < levels; i++)
        {
            bool cross = down[i] switch
            {
                "CrossAttnDownBlock2D" => true,
                "DownBlock2D" => false,
                _ => throw r.Bad("down_block_types", $"'{down[i]}' is not supported (CrossAttnDownBlock2D or DownBlock2D)"),
            };
            string mirrored = cross ? "CrossAttnUpBlock2D" : "UpBlock2D";
            if (up[levels - 1 - i] != mirrored)
                throw r.Bad("up_block_types", $"entry {levels - 1 - i} is '{up[levels - 1 - i]}' but down block {i} is '{down[i]}' (expected '{mirrored}')");
            if (cross) attention.Add(1 << i);
        }
        int perLevel = r.UniformInt("layers_per_block", levels, 2);
        int depth = r.UniformInt("transformer_layers_per_block", levels, 1);
        var heads = json.TryGetProperty("num_attention_heads", out var nah) && nah.ValueKind != JsonValueKind.Null ? "num_attention_heads" : "attention_head_dim";
        var headCounts = r.Ints(heads, required: true, broadcast: levels)!;
        if (headCounts.Length != levels || headCounts.Any(h => h <= 0)) throw r.Bad(heads, $"needs one positive number or one per level ({levels})");
        // ldm's two conventions: fixed heads (num_heads), or fixed head width (num_head_channels). The mid block uses the last level's.
        var used = attention.Select(a => System.Numerics.BitOperations.Log2((uint)a)).Append(levels - 1).Distinct().ToArray();
        int numHeads = -1, numHeadChannels = -1;
        if (used.Select(i => headCounts[i]).Distinct().Count() == 1) numHeads = headCounts[used[0]];
        else if (used.All(i => widths[i] % headCounts[i] == 0) && used.Select(i => widths[i] / headCounts[i]).Distinct().Count() == 1)
            numHeadChannels = widths[used[0]] / headCounts[used[0]];
        else throw r.Bad(heads, $"[{string.Join(",", headCounts)}] over block_out_channels [{string.Join(",", widths)}] is neither a fixed head count nor a fixed head width");
        try
        {
            return new UNetConfig
            {
                InChannels = r.Int("in_channels", 4),
                OutChannels = r.Int("out_channels", 4),
                ModelChannels = mc,
                ChannelMult = [.. widths.Select(w => w / mc)],
                NumResBlocks = perLevel,
                AttentionResolutions = attention,
                NumHeads = numHeads,
                NumHeadChannels = numHeadChannels,
                TransformerDepth = depth,
                ContextDim = r.Int("cross_attention_dim", 768),
                UseLinearInTransformer = r.Bool("use_linear_projection", false),
            }.Validate();
        }
        catch (ArgumentException e) { throw new InvalidDataException($"{source}: {e.Message}", e); }
    }

    /// <summary>The KL autoencoder of an <c>AutoencoderKL</c> config, and its <c>scaling_factor</c>.</summary>
    public static (AutoencoderConfig Config, double ScaleFactor) Autoencoder(JsonElement json, string source)
    {
        var r = new Reader(json, source);
        r.Require("act_fn", "silu", v => v.GetString() == "silu", "silu");
        r.Require("norm_num_groups", 32, v => v.ValueKind == JsonValueKind.Number && v.GetInt32() == 32, "32");
        var widths = r.Ints("block_out_channels", required: true)!;
        int ch = widths[0];
        if (widths.Any(w => w <= 0 || w % ch != 0)) throw r.Bad("block_out_channels", $"[{string.Join(",", widths)}] must be positive multiples of the first");
        var down = r.Strings("down_block_types", widths.Length);
        var attention = new List<int>();
        for (int i = 0; i < down.Length; i++)
        {
            if (down[i] == "AttnDownEncoderBlock2D") attention.Add(i);
            else if (down[i] != "DownEncoderBlock2D") throw r.Bad("down_block_types", $"'{down[i]}' is not supported (DownEncoderBlock2D or AttnDownEncoderBlock2D)");
        }
        int latent = r.Int("latent_channels", 4);
        double scale = json.TryGetProperty("scaling_factor", out var sf) && sf.ValueKind == JsonValueKind.Number ? sf.GetDouble() : 0.18215;
        if (!(scale > 0) || double.IsInfinity(scale)) throw r.Bad("scaling_factor", $"{scale} must be a positive number");
        var config = new AutoencoderConfig
        {
            Channels = ch,
            ChannelMultipliers = [.. widths.Select(w => w / ch)],
            ResBlocks = r.Int("layers_per_block", 1),
            ZChannels = latent,
            EmbedDim = latent,
            InChannels = r.Int("in_channels", 3),
            OutChannels = r.Int("out_channels", 3),
            AttentionLevels = [.. attention],
        };
        config.Validate(source);
        return (config, scale);
    }

    /// <summary>A diffusers scheduler config: what the DDPM schedule was, what the model predicts, how DDIM steps.</summary>
    /// <param name="LinearStart">β at t = 0 (<c>beta_start</c>).</param>
    /// <param name="LinearEnd">β at the last timestep (<c>beta_end</c>).</param>
    /// <param name="Timesteps"><c>num_train_timesteps</c>.</param>
    /// <param name="Prediction"><c>prediction_type</c>, null when absent.</param>
    /// <param name="Ddim"><c>timestep_spacing</c>, <c>steps_offset</c> and <c>set_alpha_to_one</c>, as diffusers'
    /// <c>DDIMScheduler</c> reads them (its defaults for a field left out: leading, 0, true).</param>
    /// <param name="Notes">What SharpClip's samplers do differently from the named scheduler.</param>
    public sealed record Scheduler(double LinearStart, double LinearEnd, int Timesteps, Sampling.Prediction? Prediction, Sampling.DdimTimesteps Ddim,
        IReadOnlyList<string> Notes);

    /// <summary>
    /// Reads <c>scheduler_config.json</c>: SD's <c>scaled_linear</c> β schedule (ldm's "linear", linear in √β) is the one
    /// supported; <c>prediction_type</c> epsilon or v_prediction; DDIM's timestep fields honoured as diffusers'
    /// <c>DDIMScheduler.from_config</c> would (SD's configs: leading + 1, ending at ᾱ_0 — LDM's timesteps).
    /// </summary>
    public static Scheduler ReadScheduler(JsonElement json, string source)
    {
        var r = new Reader(json, source);
        r.Require("beta_schedule", "scaled_linear", v => v.GetString() == "scaled_linear",
            "scaled_linear (SD's schedule, linear in √β; 'linear' and 'squaredcos_cap_v2' are other models')");
        r.Require("trained_betas", null, v => v.ValueKind == JsonValueKind.Null, "null");
        r.Require("rescale_betas_zero_snr", false, v => v.ValueKind == JsonValueKind.False, "false (a zero-terminal-SNR schedule is another model's)");
        double Num(string name, double fallback)
        {
            if (!json.TryGetProperty(name, out var v)) return fallback;
            if (v.ValueKind != JsonValueKind.Number) throw r.Bad(name, $"{v} is not a number");
            return v.GetDouble();
        }
        double start = Num("beta_start", 0.00085), end = Num("beta_end", 0.012);
        if (!(start > 0 && end > start && end < 1)) throw r.Bad("beta_start", $"need 0 < beta_start ({start}) < beta_end ({end}) < 1");
        int timesteps = r.Int("num_train_timesteps", 1000);
        if (timesteps < 2) throw r.Bad("num_train_timesteps", $"{timesteps} must be at least 2");
        Sampling.Prediction? prediction = json.TryGetProperty("prediction_type", out var p) && p.ValueKind != JsonValueKind.Null
            ? Sampling.PredictionNames.Parse(p.ValueKind == JsonValueKind.String ? p.GetString() : p.ToString(), $"{source} (prediction_type)") : null;

        var defaults = Sampling.DdimTimesteps.DiffusersDefaults;
        var spacing = r.String("timestep_spacing", "leading") switch
        {
            "leading" => Sampling.TimestepSpacing.Leading,
            "trailing" => Sampling.TimestepSpacing.Trailing,
            "linspace" => Sampling.TimestepSpacing.Linspace,
            var other => throw r.Bad("timestep_spacing", $"'{other}' is not supported (leading, trailing or linspace, as diffusers' DDIMScheduler)"),
        };
        int offset = r.NonNegativeInt("steps_offset", defaults.StepsOffset);
        bool alphaToOne = r.Bool("set_alpha_to_one", defaults.FinalAlphaIsOne);
        var notes = new List<string>();
        if (r.Bool("clip_sample", false))
            notes.Add($"{source}: clip_sample true; SharpClip's DDIM does not clamp x̂₀ (as ldm's), diffusers' DDIMScheduler would");
        if (r.Bool("thresholding", false))
            notes.Add($"{source}: thresholding true; SharpClip's DDIM does not threshold x̂₀ (as ldm's), diffusers' DDIMScheduler would");
        return new Scheduler(start, end, timesteps, prediction, new Sampling.DdimTimesteps(spacing, offset, alphaToOne), notes);
    }

    // Field access with one error shape: "FILE: field 'X' ...".
    sealed class Reader(JsonElement json, string source)
    {
        public InvalidDataException Bad(string field, string what) => new($"{source}: field '{field}': {what}");

        public void Require(string field, object? fallback, Func<JsonElement, bool> ok, string expected)
        {
            if (!json.TryGetProperty(field, out var v)) return;
            bool fine;
            try { fine = ok(v); }
            catch (InvalidOperationException) { fine = false; }
            if (!fine) throw Bad(field, $"{v.GetRawText()} is not supported (expected {expected})");
        }

        public int Int(string field, int fallback)
        {
            if (!json.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int n) || n <= 0) throw Bad(field, $"{v.GetRawText()} is not a positive integer");
            return n;
        }

        public int NonNegativeInt(string field, int fallback)
        {
            if (!json.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int n) || n < 0) throw Bad(field, $"{v.GetRawText()} is not a non-negative integer");
            return n;
        }

        public string String(string field, string fallback)
        {
            if (!json.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
            return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Bad(field, $"{v.GetRawText()} is not a string");
        }

        public bool Bool(string field, bool fallback)
        {
            if (!json.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Bad(field, $"{v.GetRawText()} is not true or false"),
            };
        }

        public int[]? Ints(string field, bool required, int broadcast = 0)
        {
            if (!json.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
                return required ? throw new InvalidDataException($"{source}: missing field '{field}'") : null;
            if (v.ValueKind == JsonValueKind.Number && broadcast > 0) return [.. Enumerable.Repeat(Int(field, 0), broadcast)];
            if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() == 0 || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out _)))
                throw Bad(field, $"{v.GetRawText()} is not a list of integers");
            return [.. v.EnumerateArray().Select(e => e.GetInt32())];
        }

        public int UniformInt(string field, int levels, int fallback)
        {
            var values = Ints(field, required: false, broadcast: levels) ?? [fallback];
            if (values.Distinct().Count() != 1 || values[0] <= 0) throw Bad(field, $"[{string.Join(",", values)}] varies per level; SharpClip's U-Net has one value");
            return values[0];
        }

        public string[] Strings(string field, int count)
        {
            if (!json.TryGetProperty(field, out var v)) throw new InvalidDataException($"{source}: missing field '{field}'");
            if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                throw Bad(field, $"{v.GetRawText()} is not a list of names");
            var names = v.EnumerateArray().Select(e => e.GetString()!).ToArray();
            if (names.Length != count) throw Bad(field, $"has {names.Length} entries but block_out_channels has {count}");
            return names;
        }
    }
}
