using System.Globalization;
using System.Text.RegularExpressions;

namespace SharpClip.Generation.Dalle.Dvae;

/// <summary>
/// The shape of a <c>dall_e.Encoder</c>: <paramref name="GroupCount"/> groups of <paramref name="BlocksPerGroup"/>
/// <see cref="EncoderBlock"/>s, group g (from 1) <c>2^(g−1) · n_hid</c> wide, each but the last followed by a 2× max-pool.
/// </summary>
/// <param name="GroupCount">group_count (4 in the package: images are downsampled 8×).</param>
/// <param name="HiddenWidth">n_hid, the first group's width (256 released); a multiple of 4.</param>
/// <param name="BlocksPerGroup">n_blk_per_group (2 released).</param>
/// <param name="InputChannels">input_channels (3).</param>
/// <param name="VocabSize">vocab_size, the codebook size (8192 released).</param>
public sealed record DvaeEncoderConfig(int GroupCount, int HiddenWidth, int BlocksPerGroup, int InputChannels, int VocabSize)
{
    /// <summary>openai/DALL-E's released encoder.pkl.</summary>
    public static DvaeEncoderConfig Released { get; } = new(4, 256, 2, 3, 8192);

    /// <summary>How many pixels one token covers along each side: 2^(groups − 1).</summary>
    public int Downsampling => 1 << (GroupCount - 1);

    /// <summary>Reads the configuration off an encoder state dict's shapes; errors name <paramref name="source"/> and the key.</summary>
    public static DvaeEncoderConfig Infer(IReadOnlyDictionary<string, long[]> shapes, string source)
    {
        var input = DvaeConfigInference.Shape(shapes, "blocks.input.w", 4, source, "an encoder");
        var output = DvaeConfigInference.Shape(shapes, "blocks.output.conv.w", 4, source, "an encoder");
        var (groups, blocks) = DvaeConfigInference.Groups(shapes, source);
        var config = new DvaeEncoderConfig(groups, (int)input[0], blocks, (int)input[1], (int)output[0]);
        DvaeConfigInference.RequireHiddenWidth(config.HiddenWidth, source, "blocks.input.w");
        return config;
    }
}

/// <summary>
/// The shape of a <c>dall_e.Decoder</c>: a 1×1 input convolution from the one-hot codes to n_init channels, then
/// <paramref name="GroupCount"/> groups of <see cref="DecoderBlock"/>s, group g (from 1) <c>2^(G−g) · n_hid</c> wide,
/// each but the last followed by a 2× nearest upsample, and a 1×1 output convolution to 2 × output_channels.
/// </summary>
/// <param name="GroupCount">group_count (4).</param>
/// <param name="InitialWidth">n_init (128 released).</param>
/// <param name="HiddenWidth">n_hid, the last group's width (256 released); a multiple of 4.</param>
/// <param name="BlocksPerGroup">n_blk_per_group (2 released).</param>
/// <param name="OutputChannels">output_channels (3): the output holds a location and a scale map per channel.</param>
/// <param name="VocabSize">vocab_size (8192 released).</param>
public sealed record DvaeDecoderConfig(int GroupCount, int InitialWidth, int HiddenWidth, int BlocksPerGroup, int OutputChannels, int VocabSize)
{
    /// <summary>openai/DALL-E's released decoder.pkl.</summary>
    public static DvaeDecoderConfig Released { get; } = new(4, 128, 256, 2, 3, 8192);

    /// <summary>How many pixels one token becomes along each side: 2^(groups − 1).</summary>
    public int Upsampling => 1 << (GroupCount - 1);

    /// <summary>Reads the configuration off a decoder state dict's shapes; errors name <paramref name="source"/> and the key.</summary>
    public static DvaeDecoderConfig Infer(IReadOnlyDictionary<string, long[]> shapes, string source)
    {
        var input = DvaeConfigInference.Shape(shapes, "blocks.input.w", 4, source, "a decoder");
        var output = DvaeConfigInference.Shape(shapes, "blocks.output.conv.w", 4, source, "a decoder");
        if (output[0] % 2 != 0)
            throw new InvalidDataException($"{source}: 'blocks.output.conv.w' has {output[0]} output channels; a dVAE decoder has two per image channel");
        var (groups, blocks) = DvaeConfigInference.Groups(shapes, source);
        var config = new DvaeDecoderConfig(groups, (int)input[0], (int)output[1], blocks, (int)(output[0] / 2), (int)input[1]);
        DvaeConfigInference.RequireHiddenWidth(config.HiddenWidth, source, "blocks.output.conv.w");
        return config;
    }
}

/// <summary>The key patterns both halves share: <c>blocks.group_{g}.block_{i}.*</c>.</summary>
static partial class DvaeConfigInference
{
    [GeneratedRegex(@"^blocks\.group_(\d+)\.block_(\d+)\.")]
    private static partial Regex BlockKey();

    public static long[] Shape(IReadOnlyDictionary<string, long[]> shapes, string key, int dims, string source, string what)
    {
        if (!shapes.TryGetValue(key, out var shape))
            throw new InvalidDataException($"{source}: no '{key}'; not {what} state dict of openai/DALL-E's dVAE (keys like " +
                                           "'blocks.input.w', 'blocks.group_1.block_1.res_path.conv_1.w', 'blocks.output.conv.w')");
        if (shape.Length != dims || shape.Any(d => d <= 0 || d > int.MaxValue))
            throw new InvalidDataException($"{source}: '{key}' has shape [{string.Join(",", shape)}], expected a {dims}-d convolution weight");
        return shape;
    }

    /// <summary>Group count and blocks per group; groups 1..G must each hold blocks 1..n.</summary>
    public static (int Groups, int Blocks) Groups(IReadOnlyDictionary<string, long[]> shapes, string source)
    {
        var found = new SortedDictionary<int, SortedSet<int>>();
        foreach (var key in shapes.Keys)
            if (BlockKey().Match(key) is { Success: true } m
                && int.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int g)
                && int.TryParse(m.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int b))
            {
                if (!found.TryGetValue(g, out var set)) found[g] = set = [];
                set.Add(b);
            }
        if (found.Count == 0) throw new InvalidDataException($"{source}: no 'blocks.group_1.block_1.*' keys; not a dVAE state dict");
        int groups = found.Keys.Max(), blocks = found[1].Max;
        if (groups > 12) throw new InvalidDataException($"{source}: 'blocks.group_{groups}' — {groups} groups would scale the image by 2^{groups - 1}");
        for (int g = 1; g <= groups; g++)
            for (int b = 1; b <= blocks; b++)
                if (!found.TryGetValue(g, out var set) || !set.Contains(b))
                    throw new InvalidDataException($"{source}: missing 'blocks.group_{g}.block_{b}.*' ({groups} groups of {blocks} blocks elsewhere)");
        return (groups, blocks);
    }

    public static void RequireHiddenWidth(int width, string source, string key)
    {
        if (width % 4 != 0)
            throw new InvalidDataException($"{source}: '{key}' gives n_hid = {width}; the blocks need a multiple of 4");
    }
}
