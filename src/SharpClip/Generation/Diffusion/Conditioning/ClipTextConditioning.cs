using SharpClip.Checkpoints;
using SharpClip.Modeling;
using SharpClip.Text;

namespace SharpClip.Generation.Diffusion.Conditioning;

/// <summary>
/// The text tower of any CLIP SharpClip can load (a model folder, a Hugging Face or open_clip folder, a bare weight
/// file with a vocabulary) as the frozen per-token conditioning of a latent diffusion model, with the tokenizer it was
/// trained with. <see cref="ConditioningTextEncoder"/> carries the text tower's own OpenAI names, so the CLIP's
/// <c>token_embedding</c>, <c>positional_embedding</c>, <c>transformer.resblocks.*</c> and <c>ln_final</c> load into it
/// unrenamed; the image tower, <c>text_projection</c> and <c>logit_scale</c> are not used (the U-Net reads states, not
/// the pooled embedding).
/// </summary>
public static class ClipTextConditioning
{
    /// <summary>The conditioning shape of a CLIP's text tower.</summary>
    public static TextEncoderConfig ConfigOf(ClipConfig clip) => new TextEncoderConfig
    {
        VocabSize = clip.VocabSize, ContextLength = clip.ContextLength, Width = clip.TextWidth, Layers = clip.TextLayers,
        Heads = clip.TextHeads, MlpWidth = clip.TextMlpWidth, Activation = clip.Activation,
    }.Validate();

    /// <summary>Reads the CLIP at <paramref name="path"/> and returns its text tower (eval mode, frozen) and tokenizer.</summary>
    /// <param name="path">Anything <see cref="CheckpointLoader"/> reads.</param>
    /// <param name="vocabPath">A vocabulary for checkpoints that carry none (bare weight files).</param>
    /// <exception cref="InvalidDataException">the checkpoint's text tower does not fit (names the file and key).</exception>
    public static (ConditioningTextEncoder Encoder, ClipTokenizer Tokenizer) Load(string path, string? vocabPath = null)
    {
        using var checkpoint = CheckpointLoader.Read(path, new CheckpointReadOptions { VocabPath = vocabPath });
        var tokenizer = checkpoint.TokenizerSource.Load();
        var encoder = UninitializedWeights.Build(() => new ConditioningTextEncoder(ConfigOf(checkpoint.ResolvedConfig)));
        var wanted = encoder.state_dict().Keys.ToHashSet(StringComparer.Ordinal);
        var entries = checkpoint.StateDict.Where(kv => wanted.Contains(kv.Key))
            .ToDictionary(kv => kv.Key, kv => new StateDictLoader.Entry(kv.Value.shape, kv.Value.dtype), StringComparer.Ordinal);
        StateDictLoader.LoadFresh(encoder, entries, key => checkpoint.StateDict[key].alias(), $"{path} (the CLIP text tower)");
        foreach (var p in encoder.parameters()) p.requires_grad_(false);
        return (encoder, tokenizer);
    }
}
