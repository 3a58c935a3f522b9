using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Training;

/// <summary>
/// Classifier-free guidance's training half: each caption is replaced, with probability p, by the empty caption, so
/// one network learns both ε(x, t, text) and ε(x, t, ∅). At sampling, guidance's unconditional side encodes the empty
/// negative prompt "" — the same token ids as the dropped captions here (<see cref="Conditioning.PromptTokens"/>).
/// </summary>
public static class CaptionDropout
{
    /// <summary>Which rows to drop: a Bernoulli(p) draw per caption from <paramref name="generator"/>.</summary>
    /// <returns>[batch] bool, true = use the empty caption.</returns>
    public static Tensor Draw(long batch, double probability, Generator generator)
    {
        if (probability is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(probability), probability, "caption dropout must be in [0, 1)");
        using var u = torch.rand([batch], generator: generator);
        using Scalar p = probability;
        return u.lt(p);
    }

    /// <summary>The token ids with the dropped rows replaced by the empty caption's.</summary>
    /// <param name="ids">[batch, context] int64.</param>
    /// <param name="emptyIds">[1, context] int64: the empty caption.</param>
    /// <param name="dropped">[batch] bool.</param>
    /// <returns>[batch, context] int64</returns>
    public static Tensor Apply(Tensor ids, Tensor emptyIds, Tensor dropped)
    {
        using var scope = torch.NewDisposeScope();
        return torch.where(dropped.view(-1, 1), emptyIds.expand_as(ids), ids).MoveToOuterDisposeScope();
    }
}
