using SharpClip.Generation.Dalle.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Dalle.Sampling;

/// <summary>
/// Draws image tokens one by one after a caption. With the cache (<see cref="SamplingOptions.UseCache"/>) the caption
/// runs once and each token then runs alone against the cached keys and values; without it every token re-runs the
/// whole prefix. Both draw from the same logits with the same generator, so they give the same tokens.
/// </summary>
public static class DalleSampler
{
    /// <param name="model">The transformer (put in eval mode by the caller).</param>
    /// <param name="text">[batch, text_length] text ids.</param>
    /// <param name="options">Temperature, top-k, top-p, cache.</param>
    /// <param name="generator">The only source of randomness: the same seed gives the same tokens.</param>
    /// <param name="onToken">Called after each image token position with the tokens done in this batch.</param>
    /// <param name="cancellationToken">Checked before each token.</param>
    /// <param name="stepLogits">When given, receives each step's image logits [batch, image_vocab] (for checking).</param>
    /// <returns>[batch, image_tokens] int64 codes.</returns>
    public static Tensor Sample(DalleTransformer model, Tensor text, SamplingOptions options, Generator generator,
        Action<int>? onToken = null, CancellationToken cancellationToken = default, IList<Tensor>? stepLogits = null) =>
        Sample(model, text, options, logits => TokenSampler.Draw(logits, options, generator), onToken, cancellationToken, stepLogits);

    /// <summary>
    /// As the other overload, but row r draws from <paramref name="generators"/>[r] alone, so each candidate is
    /// reproduced by its own seed whatever the batch it is sampled in (up to float sums that batching may reorder).
    /// </summary>
    public static Tensor Sample(DalleTransformer model, Tensor text, SamplingOptions options, IReadOnlyList<Generator> generators,
        Action<int>? onToken = null, CancellationToken cancellationToken = default) =>
        Sample(model, text, options, logits => TokenSampler.Draw(logits, options, generators), onToken, cancellationToken, null);

    static Tensor Sample(DalleTransformer model, Tensor text, SamplingOptions options, Func<Tensor, Tensor> draw,
        Action<int>? onToken, CancellationToken cancellationToken, IList<Tensor>? stepLogits)
    {
        options.Validate();
        var config = model.Config;
        long batch = text.shape[0];
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var cache = options.UseCache ? new KvCache(config, batch) : null;
        var drawn = new List<Tensor>();
        for (int i = 0; i < config.ImageTokens; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var step = NewDisposeScope();
            Tensor logits;                                                                     // [batch, n, total]
            if (cache is null) logits = model.Forward(text, drawn.Count == 0 ? torch.empty(batch, 0, dtype: ScalarType.Int64) : torch.stack(drawn, 1));
            else if (i == 0) logits = model.Forward(text, null, cache);
            else logits = model.Forward(null, drawn[^1].unsqueeze(1), cache);
            var last = logits.select(1, logits.shape[1] - 1).narrow(1, config.TextTokens, config.ImageVocabSize);   // [batch, image_vocab]
            stepLogits?.Add(last.clone().DetachFromDisposeScope());
            drawn.Add(draw(last).MoveToOuterDisposeScope());
            onToken?.Invoke(i + 1);
        }
        return torch.stack(drawn, 1).MoveToOuterDisposeScope();
    }
}
