using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// The text tower: token + positional embeddings, causally masked residual blocks, a final LayerNorm, and the
/// projection of the end-of-text token into the joint embedding space. The pooled position is <c>argmax(ids)</c>,
/// as in the reference: the end-of-text id (49407) is the largest in the vocabulary, so argmax finds its first
/// occurrence.
/// <para>Its tensors carry OpenAI's top-level names (<c>token_embedding.weight</c>, <c>positional_embedding</c>,
/// <c>transformer.resblocks.*</c>, <c>ln_final.*</c>, <c>text_projection</c>), because OpenAI's state dict keeps the
/// text tower at the top level; <see cref="ClipModel"/> extends this class rather than nesting it so its keys stay
/// exactly the reference's. Built alone, its state dict is exactly the text part of a CLIP checkpoint.</para>
/// </summary>
public class TextTransformer : nn.Module
{
    // Parameter fields are not readonly: Module.to() swaps them for converted copies through reflection.
    readonly Embedding token_embedding;
    Parameter positional_embedding;
    readonly TransformerStack transformer;
    readonly LayerNorm ln_final;
    Parameter text_projection;

    /// <summary>A text encoder of the given shape with the reference's random initialisation.</summary>
    public TextTransformer(ClipConfig config) : this(config, nameof(TextTransformer))
    {
        RegisterComponents();
    }

    /// <summary>For <see cref="ClipModel"/>: builds the tower but leaves registration to the derived constructor.</summary>
    protected TextTransformer(ClipConfig config, string name) : base(name)
    {
        Config = config.Validate();
        token_embedding = nn.Embedding(config.VocabSize, config.TextWidth);
        positional_embedding = new Parameter(torch.empty(config.ContextLength, config.TextWidth));
        transformer = new TransformerStack(config.TextWidth, config.TextLayers, config.TextHeads, config.TextMlpWidth,
            config.Activation, causal: true);
        ln_final = nn.LayerNorm(config.TextWidth);
        text_projection = new Parameter(torch.empty(config.TextWidth, config.EmbedDim));
        if (!UninitializedWeights.Active) InitializeTextParameters();
    }

    /// <summary>The architecture this model was built with.</summary>
    public ClipConfig Config { get; }

    /// <summary>Where the weights live.</summary>
    public Device Device => text_projection.device;

    /// <summary>Element type of the weights (and of the computation).</summary>
    public ScalarType DType => text_projection.dtype;

    /// <summary>Number of learnable parameters (buffers such as BatchNorm statistics excluded).</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    // The reference's initialize_parameters for the text tower: small normal embeddings, and block weights scaled
    // by depth so the residual stream keeps its size at initialisation.
    void InitializeTextParameters()
    {
        using var _ = torch.no_grad();
        int width = Config.TextWidth;
        nn.init.normal_(token_embedding.weight!, std: 0.02);
        nn.init.normal_(positional_embedding, std: 0.01);
        double projStd = Math.Pow(width, -0.5) * Math.Pow(2 * Config.TextLayers, -0.5);
        double attnStd = Math.Pow(width, -0.5);
        double fcStd = Math.Pow(2 * width, -0.5);
        foreach (var block in transformer.Blocks)
        {
            var attention = (SelfAttention)block.Attention; // CLIP's blocks are built with these two
            var mlp = (Mlp)block.FeedForward;
            nn.init.normal_(attention.InProjWeight, std: attnStd);
            nn.init.normal_(attention.OutProj.weight!, std: projStd);
            nn.init.normal_(mlp.Fc.weight!, std: fcStd);
            nn.init.normal_(mlp.Proj.weight!, std: projStd);
        }
        nn.init.normal_(text_projection, std: attnStd);
    }

    /// <summary>Text embeddings, one per row of <paramref name="ids"/>; follows the ambient autograd mode.</summary>
    /// <param name="ids">[texts, context] token ids (int64 or int32), end-of-text id the largest in each row.</param>
    /// <param name="normalize">L2-normalise each embedding (what similarity and zero-shot use).</param>
    /// <returns>[texts, embed_dim] in the model's dtype, on its device.</returns>
    public Tensor EncodeTexts(Tensor ids, bool normalize = false)
    {
        using var scope = torch.NewDisposeScope();
        var tokens = PrepareIds(ids);
        var features = Project(FinalHidden(tokens, null), tokens);
        return (normalize ? Embeddings.L2Normalize(features) : features).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Text embeddings plus the per-token hidden states: every block's output (before <c>ln_final</c>) and the
    /// <c>ln_final</c> output for every token. Text-to-image models condition on the last or penultimate layer's tokens.
    /// </summary>
    /// <param name="ids">[texts, context] token ids.</param>
    /// <param name="normalize">L2-normalise <see cref="TextEncoderOutput.Features"/>.</param>
    /// <param name="includeBlockOutputs">Also keep every block's output (costs layers × texts × context × width values).</param>
    public TextEncoderOutput EncodeTextsWithHiddenStates(Tensor ids, bool normalize = false, bool includeBlockOutputs = true)
    {
        using var scope = torch.NewDisposeScope();
        var tokens = PrepareIds(ids);
        var blocks = includeBlockOutputs ? new List<Tensor>(Config.TextLayers) : null;
        var hidden = FinalHidden(tokens, blocks);                    // [texts, context, width]
        var features = Project(hidden, tokens);                      // [texts, embed_dim]
        if (normalize) features = Embeddings.L2Normalize(features);
        var stacked = blocks is null ? null : torch.stack(blocks);   // [layers, texts, context, width]
        return new TextEncoderOutput(features.MoveToOuterDisposeScope(), hidden.MoveToOuterDisposeScope(),
            stacked?.MoveToOuterDisposeScope());
    }

    Tensor PrepareIds(Tensor ids)
    {
        RequireTokenIds(ids, Config.ContextLength);
        return ids.to(ScalarType.Int64, Device);
    }

    /// <summary>What every text tower, on any engine, accepts: int64/int32 ids [texts, ≤ context length].</summary>
    internal static void RequireTokenIds(Tensor ids, int contextLength)
    {
        if (ids.dim() != 2)
            throw new ArgumentException($"token ids must be [texts, context]; got [{string.Join(",", ids.shape)}]", nameof(ids));
        if (ids.shape[1] > contextLength)
            throw new ArgumentException($"token ids have {ids.shape[1]} positions; the model's context length is {contextLength}", nameof(ids));
        if (ids.dtype is not (ScalarType.Int64 or ScalarType.Int32))
            throw new ArgumentException($"token ids must be int64 or int32, not {ids.dtype}", nameof(ids));
    }

    // ln_final(transformer(token_embedding(ids) + positional_embedding)): [texts, context, width].
    Tensor FinalHidden(Tensor ids, List<Tensor>? blockOutputs)
    {
        long context = ids.shape[1];
        var x = token_embedding.forward(ids);                            // [texts, context, width]
        x = x.Plus(positional_embedding.narrow(0, 0, context));
        x = transformer.Forward(x, blockOutputs);
        return ln_final.forward(x);
    }

    // The final hidden state at each row's first end-of-text token, projected: [texts, embed_dim].
    Tensor Project(Tensor hidden, Tensor ids)
    {
        var rows = KeptScalars.Range(0, ids.shape[0], device: ids.device);
        var eot = ids.argmax(-1);
        var pooled = hidden.index(new TensorIndex[] { TensorIndex.Tensor(rows), TensorIndex.Tensor(eot) }); // [texts, width]
        return pooled.matmul(text_projection);
    }
}

/// <summary>
/// What <see cref="TextTransformer.EncodeTextsWithHiddenStates"/> returns. Owns its tensors: dispose it (or move the
/// tensors you keep out of it) when done.
/// </summary>
public sealed class TextEncoderOutput(Tensor features, Tensor finalHidden, Tensor? blockOutputs) : IDisposable
{
    /// <summary>[texts, embed_dim]: the text embeddings (L2-normalised if asked).</summary>
    public Tensor Features { get; } = features;

    /// <summary>[texts, context, width]: <c>ln_final</c> output for every token.</summary>
    public Tensor FinalHidden { get; } = finalHidden;

    /// <summary>[layers, texts, context, width]: each residual block's output, before <c>ln_final</c>; null when not requested.</summary>
    public Tensor? BlockOutputs { get; } = blockOutputs;

    public void Dispose()
    {
        Features.Dispose();
        FinalHidden.Dispose();
        BlockOutputs?.Dispose();
    }
}
