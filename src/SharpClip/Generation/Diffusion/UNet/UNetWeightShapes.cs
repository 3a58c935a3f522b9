using System.Globalization;

namespace SharpClip.Generation.Diffusion.UNet;

/// <summary>
/// Reads a U-Net's architecture off its weight shapes, the way the CLIP loader does for CLIP: model_channels and
/// in/out channels from the first and last convs, the levels (channel multipliers, resolutions with attention,
/// ResBlocks per level) from walking <c>input_blocks.N</c>, the context width from a cross-attention key projection,
/// the transformer depth from the blocks present, and conv vs Linear <c>proj_in</c> from that weight's rank.
/// Heads leave no trace in the weights; they come from the caller (SD v1's 8 heads by default, or SD v2's heads of 64
/// when the projections are Linear).
/// </summary>
public static class UNetWeightShapes
{
    /// <param name="shapes">U-Net tensor names (without <c>model.diffusion_model.</c>) and their shapes.</param>
    /// <param name="source">The file, for messages.</param>
    /// <param name="keyPrefix">Prefix of the keys in the file, for messages.</param>
    /// <param name="heads">Explicit heads: (num_heads, num_head_channels), one of them -1; null picks by version.</param>
    public static UNetConfig Infer(IReadOnlyDictionary<string, long[]> shapes, string source, string keyPrefix, (int NumHeads, int NumHeadChannels)? heads = null)
    {
        long[] Shape(string key, int rank = -1)
        {
            if (!shapes.TryGetValue(key, out var s)) throw new InvalidDataException($"{source}: missing key '{keyPrefix}{key}'");
            if (rank >= 0 && s.Length != rank)
                throw new InvalidDataException($"{source}: key '{keyPrefix}{key}' has shape [{string.Join(",", s)}], expected {rank} dimensions");
            return s;
        }
        int Dim(long v) => checked((int)v);

        var convIn = Shape("input_blocks.0.0.weight", 4);
        int mc = Dim(convIn[0]);
        var outConv = Shape("out.2.weight", 4);

        var mults = new List<int>();
        var attention = new List<int>();
        var resPerLevel = new List<int>();
        int ds = 1, res = 0, levelMult = -1;
        for (int i = 1; ; i++)
        {
            string p = $"input_blocks.{i}.";
            if (shapes.ContainsKey(p + "0.op.weight"))
            {
                Close();
                ds *= 2;
                continue;
            }
            if (!shapes.ContainsKey(p + "0.out_layers.3.weight")) break;
            int ch = Dim(Shape(p + "0.out_layers.3.weight", 4)[0]);
            if (ch % mc != 0) throw new InvalidDataException($"{source}: key '{keyPrefix}{p}0.out_layers.3.weight' has {ch} channels, not a multiple of model_channels {mc}");
            if (levelMult != -1 && ch / mc != levelMult)
                throw new InvalidDataException($"{source}: key '{keyPrefix}{p}0.out_layers.3.weight' changes the channels within a level ({levelMult * mc} → {ch})");
            levelMult = ch / mc;
            res++;
            if (shapes.ContainsKey(p + "1.norm.weight") && !attention.Contains(ds)) attention.Add(ds);
        }
        Close();
        if (resPerLevel.Distinct().Count() != 1)
            throw new InvalidDataException($"{source}: levels have different numbers of ResBlocks ({string.Join(",", resPerLevel)}) under '{keyPrefix}input_blocks'");

        const string mid = "middle_block.1.";
        var projIn = Shape(mid + "proj_in.weight");
        bool linear = projIn.Length == 2;
        if (!linear && projIn.Length != 4)
            throw new InvalidDataException($"{source}: key '{keyPrefix}{mid}proj_in.weight' has shape [{string.Join(",", projIn)}]: neither a Linear nor a 1×1 conv");
        int context = Dim(Shape(mid + "transformer_blocks.0.attn2.to_k.weight", 2)[1]);
        int depth = 0;
        while (shapes.ContainsKey(string.Create(CultureInfo.InvariantCulture, $"{mid}transformer_blocks.{depth}.norm1.weight"))) depth++;

        var (numHeads, numHeadChannels) = heads ?? (linear ? (-1, 64) : (8, -1));
        try
        {
            return new UNetConfig
            {
                InChannels = Dim(convIn[1]),
                OutChannels = Dim(outConv[0]),
                ModelChannels = mc,
                ChannelMult = mults,
                NumResBlocks = resPerLevel[0],
                AttentionResolutions = attention,
                NumHeads = numHeads,
                NumHeadChannels = numHeadChannels,
                TransformerDepth = depth,
                ContextDim = context,
                UseLinearInTransformer = linear,
            }.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: the U-Net under '{keyPrefix}' does not fit: {e.Message}", e);
        }

        void Close()
        {
            if (res == 0) throw new InvalidDataException($"{source}: a level of '{keyPrefix}input_blocks' has no ResBlock (missing key '{keyPrefix}input_blocks.N.0.out_layers.3.weight'?)");
            mults.Add(levelMult);
            resPerLevel.Add(res);
            res = 0;
            levelMult = -1;
        }
    }
}
