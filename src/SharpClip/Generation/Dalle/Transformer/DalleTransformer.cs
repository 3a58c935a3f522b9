using SharpClip.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Generation.Dalle.Transformer;

/// <summary>
/// DALL-E's decoder-only transformer over [caption tokens | image tokens] (<see cref="DalleConfig"/>): token
/// embeddings plus a position embedding for the caption and a row and a column embedding for the image grid,
/// pre-LayerNorm blocks (Modeling's <see cref="ResidualAttentionBlock"/> around a <see cref="CachedCausalAttention"/>
/// and an <see cref="Mlp"/>), a final LayerNorm and one head over both vocabularies. The output at position p
/// predicts token p + 1, and the logit mask lets caption positions predict only text ids and image positions only
/// image codes, so no probability is ever spent on the wrong kind of token.
/// </summary>
public sealed class DalleTransformer : nn.Module
{
    readonly Embedding text_embedding;
    readonly Embedding text_pos_embedding;
    readonly Embedding image_embedding;
    readonly Embedding image_row_embedding;
    readonly Embedding image_col_embedding;
    readonly TransformerStack transformer;
    readonly LayerNorm ln_final;
    readonly Linear to_logits;
    static readonly Scalar NegativeInfinity = float.NegativeInfinity;   // kept for the process (see Modeling/KeptScalars)

    public DalleTransformer(DalleConfig config) : base(nameof(DalleTransformer))
    {
        Config = config.Validate();
        text_embedding = nn.Embedding(config.TextTokens, config.Width);
        text_pos_embedding = nn.Embedding(config.TextLength, config.Width);
        image_embedding = nn.Embedding(config.ImageVocabSize, config.Width);
        image_row_embedding = nn.Embedding(config.ImageRows, config.Width);
        image_col_embedding = nn.Embedding(config.ImageColumns, config.Width);
        transformer = new TransformerStack(Enumerable.Range(0, config.Layers).Select(_ => new ResidualAttentionBlock(config.Width,
            new CachedCausalAttention(config.Width, config.Heads), new Mlp(config.Width, 4 * config.Width, Activation.Gelu))));
        ln_final = nn.LayerNorm(config.Width);
        to_logits = Layers.Linear(config.Width, config.TotalTokens);
        if (!UninitializedWeights.Active)
            using (torch.no_grad())
                foreach (var e in new[] { text_embedding, text_pos_embedding, image_embedding, image_row_embedding, image_col_embedding })
                    nn.init.normal_(e.weight!, 0, 0.02);
        RegisterComponents();
    }

    public DalleConfig Config { get; }

    /// <summary>Training and uncached decoding: the whole stream at once.</summary>
    /// <param name="text">[batch, text_length] text ids (<see cref="DalleText"/>).</param>
    /// <param name="image">[batch, k] image codes in [0, image_vocab), k ≤ image tokens − 1 in training (the last is only a target).</param>
    /// <returns>[batch, text_length + k, total_tokens] masked logits; position p predicts token p + 1.</returns>
    public Tensor Forward(Tensor text, Tensor image) => Run(text, image, null);

    /// <summary>
    /// Cached decoding: runs only the new tokens, appending their keys and values to <paramref name="cache"/>.
    /// The first call passes the caption (<paramref name="image"/> empty or null), later calls the image codes that follow.
    /// </summary>
    /// <returns>[batch, new tokens, total_tokens] masked logits.</returns>
    public Tensor Forward(Tensor? text, Tensor? image, KvCache cache) => Run(text, image, cache);

    Tensor Run(Tensor? text, Tensor? image, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        long start = cache?.Length ?? 0;                 // absolute position of the first new token
        var parts = new List<Tensor>();
        if (text is not null && text.shape[1] > 0)
        {
            if (start != 0) throw new ArgumentException("the caption must come first, into an empty cache");
            if (text.shape[1] != Config.TextLength) throw new ArgumentException($"captions are [batch, {Config.TextLength}] tokens, got [{string.Join(",", text.shape)}]");
            var positions = KeptScalars.Range(0, Config.TextLength);
            parts.Add(text_embedding.forward(text).Plus(text_pos_embedding.forward(positions)));   // [batch, text, width]
        }
        if (image is not null && image.shape[1] > 0)
        {
            long first = Math.Max(0, start - Config.TextLength), count = image.shape[1];
            if (text is null && start < Config.TextLength) throw new ArgumentException("image tokens follow the caption: run the caption first");
            if (first + count > Config.ImageTokens) throw new ArgumentException($"{first + count} image tokens; the grid has {Config.ImageTokens}");
            var index = KeptScalars.Range(first, first + count);
            using Scalar columns = Config.ImageColumns;
            var pos = image_row_embedding.forward(index.div(columns, RoundingMode.floor)).Plus(image_col_embedding.forward(index.remainder(columns)));
            parts.Add(image_embedding.forward(image).Plus(pos));                                    // [batch, k, width]
        }
        if (parts.Count == 0) throw new ArgumentException("no tokens to run");
        var x = parts.Count == 1 ? parts[0] : torch.cat(parts, 1);                                 // [batch, n, width]
        long n = x.shape[1];

        var layers = transformer.Blocks;
        try
        {
            if (cache is not null)
                for (int i = 0; i < layers.Count; i++) ((CachedCausalAttention)layers[i].Attention).Cache = cache.Layers[i];
            x = transformer.forward(x);
        }
        finally
        {
            foreach (var block in layers) ((CachedCausalAttention)block.Attention).Cache = null;
        }
        var logits = to_logits.forward(ln_final.forward(x));                                      // [batch, n, total]
        return logits.masked_fill(ForbiddenLogits(start, n), NegativeInfinity).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// [n, total_tokens] true where position <c>start + i</c> may not predict that id: positions before the caption's
    /// last predict caption tokens (text ids only), the caption's last and every image position predict image codes.
    /// </summary>
    public Tensor ForbiddenLogits(long start, long n)
    {
        using var scope = NewDisposeScope();
        using Scalar lastCaption = Config.TextLength - 1, textTokens = Config.TextTokens;
        var predictsText = KeptScalars.Range(start, start + n).lt(lastCaption).unsqueeze(1);   // [n, 1]
        var isText = KeptScalars.Range(0, Config.TotalTokens).lt(textTokens).unsqueeze(0);        // [1, total]
        return predictsText.logical_xor(isText).MoveToOuterDisposeScope();
    }
}
