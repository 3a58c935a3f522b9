using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Dalle.Sampling;

/// <summary>Draws one token per row from logits: temperature, then top-k, then top-p (nucleus) filtering, then a multinomial draw.</summary>
public static class TokenSampler
{
    static readonly Scalar NegativeInfinity = float.NegativeInfinity;   // kept for the process

    /// <summary>The logits with filtered-out entries set to −∞.</summary>
    /// <param name="logits">[batch, classes]</param>
    /// <param name="options">Temperature, top-k, top-p.</param>
    public static Tensor Filter(Tensor logits, SamplingOptions options)
    {
        using var scope = NewDisposeScope();
        using Scalar temperature = options.Temperature;
        var x = logits.div(temperature);
        if (options.TopK is int k && k < x.shape[1])
        {
            var kth = x.topk(k, dim: 1).values.narrow(1, k - 1, 1);                // [batch, 1]
            x = x.masked_fill(x.lt(kth), NegativeInfinity);
        }
        if (options.TopP is double p && p < 1)
        {
            var (sorted, order) = x.sort(1, descending: true);
            var cumulative = sorted.softmax(1).cumsum(1);
            using Scalar pScalar = p;
            // drop a token when the tokens before it already reach p (the first token is always kept)
            var before = cumulative.sub(sorted.softmax(1));
            var dropSorted = before.ge(pScalar);
            var drop = torch.zeros_like(dropSorted).scatter(1, order, dropSorted);
            x = x.masked_fill(drop, NegativeInfinity);
        }
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>One draw per row from the filtered distribution.</summary>
    /// <returns>[batch] int64 indices.</returns>
    public static Tensor Draw(Tensor logits, SamplingOptions options, Generator generator)
    {
        using var scope = NewDisposeScope();
        var probabilities = Filter(logits, options).softmax(1);
        return probabilities.multinomial(1, generator: generator).squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One draw per row, row r from <paramref name="generators"/>[r], so a row's tokens depend only on its own seed and
    /// not on which rows share its batch: image i of a run is the same whether it was sampled alone or in a batch.
    /// </summary>
    /// <returns>[batch] int64 indices.</returns>
    public static Tensor Draw(Tensor logits, SamplingOptions options, IReadOnlyList<Generator> generators)
    {
        if (generators.Count != logits.shape[0]) throw new ArgumentException($"{generators.Count} generators for {logits.shape[0]} rows");
        using var scope = NewDisposeScope();
        var probabilities = Filter(logits, options).softmax(1);                       // [batch, classes]
        var rows = generators.Select((g, r) => probabilities.narrow(0, r, 1).multinomial(1, generator: g).view(1)).ToArray();
        return torch.cat(rows, 0).MoveToOuterDisposeScope();
    }
}
