using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>The text tower's free lunch: padding after every caption's end token changes no embedding.</summary>
public static class TextPadding
{
    /// <summary>
    /// Drops the padding columns after the batch's last end-of-text token. Exact: the text tower pools the hidden state
    /// at each row's first end token (<c>argmax</c> of the ids, the end id being the largest), and with causal attention
    /// that state depends only on the tokens up to it, so the columns after every row's end token cannot change any
    /// embedding. The reference computes them anyway; for 10-20-token captions in a 77-token context they are most
    /// of the text tower's work.
    /// </summary>
    /// <param name="ids">[N, context] token ids.</param>
    /// <returns>[N, longest] ids, or <paramref name="ids"/> itself when nothing can be dropped.</returns>
    public static Tensor Trim(Tensor ids)
    {
        if (ids.shape[0] == 0) return ids;
        using var ends = ids.argmax(-1);
        using var last = ends.max();
        long keep = last.item<long>() + 1;
        return keep < ids.shape[1] ? ids.narrow(1, 0, keep) : ids;
    }
}
