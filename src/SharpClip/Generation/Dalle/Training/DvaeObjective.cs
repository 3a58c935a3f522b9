using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Generation.Dalle.Training;

/// <summary>How the decoder's output is compared with the input image.</summary>
public enum ReconstructionLoss
{
    /// <summary>The paper's: negative log-likelihood of the mapped pixels under the logit-Laplace distribution whose
    /// location (channels 0–2, in logit space) and log-scale (channels 3–5) the decoder predicts.</summary>
    LogitLaplace,
    /// <summary>Mean absolute error between <c>unmap(sigmoid(μ))</c> and the image; the log-scales are unused.</summary>
    L1,
    /// <summary>Mean squared error between <c>unmap(sigmoid(μ))</c> and the image (DALLE-pytorch's default).</summary>
    L2,
}

/// <summary>
/// The pieces of the dVAE's training loss (the DALL-E paper, §2.1): a gumbel-softmax relaxation of the codes, the
/// reconstruction term and the KL divergence of the encoder's code distribution from the uniform prior. Every term is
/// normalised per image sub-pixel (batch × 3 × h × w), so <c>recon + β·KL</c> is the paper's ELBO divided by the
/// number of sub-pixels and β means what the paper's β means (6.6).
/// </summary>
public static class DvaeObjective
{
    // Kept for the process: a temporary Scalar can be finalised mid-op (shared/notes/torchsharp.md §11).
    static readonly Scalar Tiny = 1e-20;

    /// <summary>
    /// The gumbel-softmax relaxation over the codebook axis (dim 1): <c>softmax((logits + g) / τ)</c> with
    /// <c>g = −log(−log u)</c>, <c>u ~ U(0, 1)</c> drawn from <paramref name="generator"/> (so a step's noise is a function
    /// of the generator's seed, and a resumed run draws the same). With <paramref name="hard"/> the forward value is the
    /// one-hot argmax and the gradient the soft one's (straight-through).
    /// </summary>
    /// <param name="logits">[batch, vocab, h, w]</param>
    /// <param name="temperature">τ &gt; 0.</param>
    /// <param name="generator">Source of the uniform noise.</param>
    /// <param name="hard">Straight-through one-hot codes.</param>
    /// <returns>[batch, vocab, h, w], summing to 1 over the vocabulary.</returns>
    public static Tensor GumbelSoftmax(Tensor logits, double temperature, Generator generator, bool hard = false)
    {
        if (temperature <= 0) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "the temperature must be positive");
        using var scope = NewDisposeScope();
        // u in [tiny, 1): log(u) is finite and −log(u) > 0, so the gumbel noise is finite.
        var u = torch.rand(logits.shape, dtype: logits.dtype, generator: generator).clamp_min(Tiny);
        var gumbel = u.log().neg().log().neg();
        using Scalar tau = temperature;   // held for the op (a temporary Scalar can be finalised mid-call)
        var soft = logits.Plus(gumbel).div(tau).softmax(1);
        if (!hard) return soft.MoveToOuterDisposeScope();
        var index = soft.argmax(1, keepdim: true);
        var oneHot = torch.zeros_like(soft).scatter_(1, index, torch.ones_like(index, dtype: soft.dtype));
        return oneHot.sub(soft.detach()).Plus(soft).MoveToOuterDisposeScope();   // value one-hot, gradient soft
    }

    /// <summary>
    /// KL(q ‖ uniform) summed over every token of the batch, divided by <paramref name="subpixels"/>:
    /// <c>Σ q·(log q + log K)</c> with q = softmax(logits) over the K codes.
    /// </summary>
    /// <param name="logits">[batch, vocab, h', w'] encoder logits.</param>
    /// <param name="subpixels">batch × 3 × h × w of the images.</param>
    public static Tensor KlToUniform(Tensor logits, long subpixels)
    {
        using var scope = NewDisposeScope();
        using Scalar logK = Math.Log(logits.shape[1]), count = subpixels;
        var logQ = logits.log_softmax(1);
        var kl = logQ.exp().mul(logQ.add(logK, KeptScalars.One)).sum();
        return kl.div(count).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The reconstruction term, mean per sub-pixel. For <see cref="ReconstructionLoss.LogitLaplace"/>, with
    /// x = map(image) ∈ [ε, 1 − ε], μ = output[:, :3], b = exp(output[:, 3:]):
    /// <c>−log f(x) = |logit x − μ| / b + log b + log 2 + log x + log(1 − x)</c>
    /// (the paper's density <c>f(x) = exp(−|logit x − μ| / b) / (2 b x (1 − x))</c>).
    /// </summary>
    /// <param name="output">[batch, 6, h, w] decoder output.</param>
    /// <param name="image">[batch, 3, h, w] in [0, 1].</param>
    /// <param name="kind">Which reconstruction loss.</param>
    public static Tensor Reconstruction(Tensor output, Tensor image, ReconstructionLoss kind)
    {
        using var scope = NewDisposeScope();
        using Scalar log2 = Math.Log(2);
        var mu = output.narrow(1, 0, 3);
        Tensor loss;
        switch (kind)
        {
            case ReconstructionLoss.LogitLaplace:
                var x = LogitLaplace.Map(image);
                var logB = output.narrow(1, 3, 3);
                var logitX = x.log().sub(x.neg().log1p());
                loss = logitX.sub(mu).abs().mul(logB.neg().exp()).Plus(logB).add(log2, KeptScalars.One).Plus(x.log()).Plus(x.neg().log1p()).mean();
                break;
            case ReconstructionLoss.L1:
                loss = F.l1_loss(LogitLaplace.Unmap(mu.sigmoid()), image);
                break;
            case ReconstructionLoss.L2:
                loss = F.mse_loss(LogitLaplace.Unmap(mu.sigmoid()), image);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
        return loss.MoveToOuterDisposeScope();
    }
}
