using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Training;

/// <summary>
/// SigLIP's pairwise sigmoid loss (Zhai et al. 2023): every image-text pair of the batch is an independent binary
/// question "do these match?", positive on the diagonal and negative elsewhere. No softmax over the batch, so no
/// batch-wide normalisation: <c>−Σᵢⱼ log σ(zᵢⱼ · logitᵢⱼ) / N</c> with <c>zᵢⱼ = +1</c> if i = j else −1, where the
/// logits already include the learned scale and bias (<c>exp(t)·cos + b</c>).
/// </summary>
public static class SigLipLoss
{
    // Kept for the process (shared/notes/torchsharp.md §11).
    static readonly Scalar Two = 2, One = 1;

    /// <param name="logits">[N, N]: image i against text j, scaled and biased.</param>
    /// <returns>Scalar loss, summed over the N² pairs and divided by N (the paper's normalisation).</returns>
    public static Tensor Compute(Tensor logits)
    {
        long n = logits.shape[0];
        if (logits.dim() != 2 || logits.shape[1] != n)
            throw new ArgumentException($"SigLIP logits must be square; got [{string.Join(",", logits.shape)}]");
        using var scope = torch.NewDisposeScope();
        using Scalar batchSize = n;   // held for the op: a temporary Scalar can be finalised mid-call
        var signs = torch.eye(n, dtype: logits.dtype, device: logits.device).mul_(Two).sub_(One); // +1 diagonal, −1 elsewhere
        var loss = F.logsigmoid(signs * logits).sum().neg().div(batchSize);
        return loss.MoveToOuterDisposeScope();
    }
}
