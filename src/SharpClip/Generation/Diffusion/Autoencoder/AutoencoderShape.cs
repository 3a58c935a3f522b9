using System.Globalization;

namespace SharpClip.Generation.Diffusion.Autoencoder;

/// <summary>
/// Reads an <see cref="AutoencoderConfig"/> off the tensor shapes of a KL autoencoder state dict (prefix stripped), the
/// way the CLIP loader reads CLIP's shape, and checks a declared config against them. Every field comes from one
/// tensor, which the errors name.
/// </summary>
public static class AutoencoderShape
{
    const string ConvIn = "encoder.conv_in.weight";             // [ch, in_channels, 3, 3]
    const string DecoderConvIn = "decoder.conv_in.weight";      // [ch·ch_mult[-1], z_channels, 3, 3]
    const string DecoderConvOut = "decoder.conv_out.weight";    // [out_ch, ch·ch_mult[0], 3, 3]
    const string PostQuantConv = "post_quant_conv.weight";      // [z_channels, embed_dim, 1, 1]
    static string LevelConv(int level) => $"encoder.down.{level}.block.0.conv1.weight"; // [ch·ch_mult[level], ...]

    /// <summary>The architecture the tensors describe.</summary>
    /// <param name="shapes">Shape per key, without the <c>first_stage_model.</c> prefix.</param>
    /// <param name="source">Named in errors.</param>
    /// <exception cref="InvalidDataException">a tensor the inference needs is missing or has an impossible shape.</exception>
    public static AutoencoderConfig Infer(IReadOnlyDictionary<string, long[]> shapes, string source)
    {
        long[] Shape(string key, int rank)
        {
            if (!shapes.TryGetValue(key, out var shape))
                throw new InvalidDataException($"{source}: missing '{key}', which a KL autoencoder (encoder/decoder) state dict has");
            if (shape.Length != rank)
                throw new InvalidDataException($"{source}: '{key}' has shape [{string.Join(",", shape)}]; a KL autoencoder's is {rank}-dimensional");
            return shape;
        }
        var convIn = Shape(ConvIn, 4);
        int channels = (int)convIn[0];
        int levels = Indices(shapes.Keys, "encoder.down.").Count;
        if (levels == 0) throw new InvalidDataException($"{source}: no 'encoder.down.0.*' tensors, so no resolution levels");
        var multipliers = new int[levels];
        for (int level = 0; level < levels; level++)
        {
            long width = Shape(LevelConv(level), 4)[0];
            if (width % channels != 0)
                throw new InvalidDataException($"{source}: '{LevelConv(level)}' has {width} output channels, not a multiple of ch {channels} ('{ConvIn}')");
            multipliers[level] = (int)(width / channels);
        }
        var attention = Enumerable.Range(0, levels)
            .Where(l => shapes.Keys.Any(k => k.StartsWith($"encoder.down.{l}.attn.", StringComparison.Ordinal)
                                          || k.StartsWith($"decoder.up.{l}.attn.", StringComparison.Ordinal)))
            .ToArray();
        var config = new AutoencoderConfig
        {
            Channels = channels,
            ChannelMultipliers = multipliers,
            ResBlocks = Indices(shapes.Keys, "encoder.down.0.block.").Count,
            ZChannels = (int)Shape(DecoderConvIn, 4)[1],
            EmbedDim = (int)Shape(PostQuantConv, 4)[1],
            InChannels = (int)convIn[1],
            OutChannels = (int)Shape(DecoderConvOut, 4)[0],
            AttentionLevels = attention,
        };
        config.Validate(source);
        return config;
    }

    /// <summary>
    /// Refuses a declared <paramref name="config"/> that differs from what the weights hold, naming the field, both
    /// values and the tensor the weights' value comes from.
    /// </summary>
    public static void RequireAgreement(AutoencoderConfig config, AutoencoderConfig inferred, IReadOnlyDictionary<string, long[]> shapes, string source)
    {
        string Shape(string key) => shapes.TryGetValue(key, out var s) ? $"'{key}' [{string.Join(",", s)}]" : $"'{key}'";
        void Check(string field, string declared, string held, Func<string> evidence)
        {
            if (declared != held)
                throw new InvalidDataException($"{source}: the config declares {field} {declared}, the weights hold {held} (from {evidence()})");
        }
        static string List(IEnumerable<int> values) => "[" + string.Join(", ", values) + "]";
        static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);
        Check("ch", Int(config.Channels), Int(inferred.Channels), () => Shape(ConvIn));
        Check("in_channels", Int(config.InChannels), Int(inferred.InChannels), () => Shape(ConvIn));
        Check("ch_mult", List(config.ChannelMultipliers), List(inferred.ChannelMultipliers),
            () => config.ChannelMultipliers.Length != inferred.ChannelMultipliers.Length
                ? $"the 'encoder.down.{{i}}' levels present"
                : Shape(LevelConv(Enumerable.Range(0, config.Levels).First(l => config.ChannelMultipliers[l] != inferred.ChannelMultipliers[l]))));
        Check("num_res_blocks", Int(config.ResBlocks), Int(inferred.ResBlocks), () => "the 'encoder.down.0.block.{j}' blocks present");
        Check("z_channels", Int(config.ZChannels), Int(inferred.ZChannels), () => Shape(DecoderConvIn));
        Check("embed_dim", Int(config.EmbedDim), Int(inferred.EmbedDim), () => Shape(PostQuantConv));
        Check("out_ch", Int(config.OutChannels), Int(inferred.OutChannels), () => Shape(DecoderConvOut));
        Check("attention levels", List(config.AttentionLevels.Order()), List(inferred.AttentionLevels), () => "the 'encoder.down.{i}.attn' / 'decoder.up.{i}.attn' tensors present");
    }

    /// <summary>The distinct integer indices that follow <paramref name="prefix"/> in the keys, required to be 0..n−1.</summary>
    static List<int> Indices(IEnumerable<string> keys, string prefix)
    {
        var found = keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => k[prefix.Length..].Split('.')[0])
            .Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : -1)
            .Distinct().Order().ToList();
        // A gap or a non-number falls through to the state-dict check, which names the stray key.
        return found.TakeWhile((index, position) => index == position).ToList();
    }
}
