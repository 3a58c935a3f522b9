using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Training;

/// <summary>
/// CLIP's contrastive objective: in a batch of N matching image-text pairs, image i should pick text i among the N
/// texts and text i should pick image i. Cross-entropy over each row of the logits with targets 0..N-1, both
/// directions averaged: <c>(CE(logits_per_image, arange(N)) + CE(logits_per_text, arange(N))) / 2</c>.
/// </summary>
public static class ClipLoss
{
    /// <param name="logitsPerImage">[N, N]: image i against every text (already scaled by exp(logit_scale)).</param>
    /// <param name="logitsPerText">[N, N]: text i against every image (the transpose).</param>
    /// <returns>Scalar loss (mean over the batch), differentiable.</returns>
    public static Tensor Compute(Tensor logitsPerImage, Tensor logitsPerText)
    {
        long n = logitsPerImage.shape[0];
        if (logitsPerImage.dim() != 2 || logitsPerImage.shape[1] != n || !logitsPerText.shape.SequenceEqual(logitsPerImage.shape))
            throw new ArgumentException($"contrastive logits must be square and equal in shape; got [{string.Join(",", logitsPerImage.shape)}] and [{string.Join(",", logitsPerText.shape)}]");
        using var scope = torch.NewDisposeScope();
        var labels = KeptScalars.Range(0, n, ScalarType.Int64, logitsPerImage.device);
        using Scalar one = 1, two = 2; // held until the ops are done (see Modeling/KeptScalars)
        var loss = F.cross_entropy(logitsPerImage, labels).add(F.cross_entropy(logitsPerText, labels), one).div(two);
        return loss.MoveToOuterDisposeScope();
    }
}
