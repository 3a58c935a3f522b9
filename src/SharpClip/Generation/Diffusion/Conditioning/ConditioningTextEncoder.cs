using SharpClip.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Conditioning;

/// <summary>
/// CLIP's text tower as a diffusion model uses it: token and position embeddings, the causally masked
/// <see cref="TransformerStack"/> of Modeling, and the final LayerNorm applied to every position — per-token states
/// for cross-attention, with no pooling and no projection (SD checkpoints carry no <c>text_projection</c>, which is
/// why this is not a <see cref="TextTransformer"/>). Tensors carry OpenAI's names (<c>token_embedding</c>,
/// <c>positional_embedding</c>, <c>transformer.resblocks.*</c>, <c>ln_final</c>); the checkpoint's Hugging Face
/// names are mapped onto them by the loader.
/// </summary>
public sealed class ConditioningTextEncoder : nn.Module
{
    // Parameter fields are not readonly: Module.to() swaps them for converted copies through reflection.
    readonly Embedding token_embedding;
    Parameter positional_embedding;
    readonly TransformerStack transformer;
    readonly LayerNorm ln_final;

    public ConditioningTextEncoder(TextEncoderConfig config) : base(nameof(ConditioningTextEncoder))
    {
        Config = config.Validate();
        token_embedding = nn.Embedding(config.VocabSize, config.Width);
        positional_embedding = new Parameter(torch.zeros(config.ContextLength, config.Width));
        transformer = new TransformerStack(config.Width, config.Layers, config.Heads, config.MlpWidth, config.Activation, causal: true);
        ln_final = nn.LayerNorm(config.Width);
        RegisterComponents();
        eval();
    }

    public TextEncoderConfig Config { get; }

    /// <summary>
    /// Per-token states: the output of the last layer (<paramref name="clipSkip"/> 1, SD 1.x) or of an earlier one
    /// (2 = penultimate, the SD 2.x convention and what "clip skip" means in other tools), through the final LayerNorm.
    /// </summary>
    /// <param name="ids">[texts, context] int64 token ids (SD pads with the end-of-text id, not 0).</param>
    /// <param name="clipSkip">1 for the last layer, 2 for the one before, ...</param>
    /// <returns>[texts, context, width]</returns>
    public Tensor Encode(Tensor ids, int clipSkip = 1)
    {
        if (ids.dim() != 2 || ids.shape[1] > Config.ContextLength)
            throw new ArgumentException($"token ids must be [texts, ≤{Config.ContextLength}]; got [{string.Join(",", ids.shape)}]", nameof(ids));
        if (clipSkip < 1 || clipSkip > Config.Layers)
            throw new ArgumentOutOfRangeException(nameof(clipSkip), clipSkip, $"clip skip must be 1..{Config.Layers}");
        using var scope = torch.NewDisposeScope();
        var x = token_embedding.forward(ids.to(ScalarType.Int64, positional_embedding.device)); // [texts, context, width]
        x = x.Plus(positional_embedding.narrow(0, 0, ids.shape[1]));
        var blocks = transformer.Blocks;
        for (int i = 0; i < blocks.Count - (clipSkip - 1); i++) x = blocks[i].forward(x);
        return ln_final.forward(x).MoveToOuterDisposeScope();
    }
}
