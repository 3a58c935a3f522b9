namespace SharpClip.Modeling;

/// <summary>
/// Counts a CLIP model's parameters from its config alone, module by module as <c>clip.model.CLIP</c> builds them.
/// Used for presets too large to allocate in a test (ViT-g/14 has 1.37 billion) and cross-checked against real
/// <see cref="ClipModel"/> instances of the small shapes.
/// </summary>
internal static class ParameterCounting
{
    public static long Count(ClipConfig c) =>
        (c.IsVisionTransformer ? VisionTransformer(c) : ModifiedResNet(c)) + TextTower(c) + 1; // + logit_scale

    static long LayerNorm(long width) => 2 * width;

    static long Linear(long input, long output) => input * output + output;

    // ln_1, attention (packed in-projection + out-projection), ln_2, MLP.
    static long Block(long width, long mlpWidth) =>
        LayerNorm(width) + Linear(width, 3 * width) + Linear(width, width) + LayerNorm(width)
        + Linear(width, mlpWidth) + Linear(mlpWidth, width);

    static long TextTower(ClipConfig c)
    {
        long w = c.TextWidth;
        return (long)c.VocabSize * w + (long)c.ContextLength * w + c.TextLayers * Block(w, c.TextMlpWidth)
            + LayerNorm(w) + w * c.EmbedDim;
    }

    static long VisionTransformer(ClipConfig c)
    {
        long w = c.VisionWidth, p = c.VisionPatchSize!.Value, grid = c.VisionGrid;
        return 3 * w * p * p                   // conv1, no bias
            + w                                // class_embedding
            + (grid * grid + 1) * w            // positional_embedding
            + LayerNorm(w)                     // ln_pre
            + c.VisionLayers[0] * Block(w, c.VisionMlpWidth)
            + LayerNorm(w)                     // ln_post
            + w * c.EmbedDim;                  // proj
    }

    static long BatchNorm(long channels) => 2 * channels; // running statistics are buffers

    static long ModifiedResNet(ClipConfig c)
    {
        long w = c.VisionWidth, half = w / 2;
        long n = 3 * half * 9 + BatchNorm(half) + half * half * 9 + BatchNorm(half) + half * w * 9 + BatchNorm(w);
        long inplanes = w;
        for (int stage = 0; stage < 4; stage++)
        {
            long planes = w << stage;
            for (int block = 0; block < c.VisionLayers[stage]; block++)
            {
                bool strided = stage > 0 && block == 0;
                n += inplanes * planes + BatchNorm(planes) + planes * planes * 9 + BatchNorm(planes)
                    + planes * planes * Bottleneck.Expansion + BatchNorm(planes * Bottleneck.Expansion);
                if (strided || inplanes != planes * Bottleneck.Expansion)
                    n += inplanes * planes * Bottleneck.Expansion + BatchNorm(planes * Bottleneck.Expansion);
                inplanes = planes * Bottleneck.Expansion;
            }
        }
        long embed = 32 * w, grid = c.ResNetOutputGrid;
        return n + (grid * grid + 1) * embed + 3 * Linear(embed, embed) + Linear(embed, c.EmbedDim);
    }
}
