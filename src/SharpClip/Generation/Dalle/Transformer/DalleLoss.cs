using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpClip.Generation.Dalle.Transformer;

/// <summary>The loss's parts for one batch.</summary>
public sealed record DalleLossParts(Tensor Total, Tensor Text, Tensor Image) : IDisposable
{
    public void Dispose()
    {
        Total.Dispose();
        Text.Dispose();
        Image.Dispose();
    }
}

/// <summary>
/// The DALL-E paper's objective: cross-entropy of the caption tokens and of the image tokens, mixed
/// <c>(w_text · text + w_image · image) / (w_text + w_image)</c> — 1/8 and 7/8 by default, because the image is what
/// the model is for while the caption loss still teaches it language.
/// </summary>
public static class DalleLoss
{
    /// <param name="logits">[batch, text_length + image_tokens − 1, total_tokens] from <see cref="DalleTransformer.Forward(Tensor, Tensor)"/>.</param>
    /// <param name="text">[batch, text_length] text ids.</param>
    /// <param name="image">[batch, image_tokens] image codes.</param>
    /// <param name="config">The model's shape.</param>
    /// <param name="textWeight">Weight of the text cross-entropy (1).</param>
    /// <param name="imageWeight">Weight of the image cross-entropy (7).</param>
    public static DalleLossParts Compute(Tensor logits, Tensor text, Tensor image, DalleConfig config, double textWeight = 1, double imageWeight = 7)
    {
        using var scope = NewDisposeScope();
        int t = config.TextLength;
        long classes = logits.shape[2];
        // positions 0 .. t−2 predict caption tokens 1 .. t−1; positions t−1 .. end predict image tokens 0 ..
        var textLoss = F.cross_entropy(logits.narrow(1, 0, t - 1).reshape(-1, classes), text.narrow(1, 1, t - 1).reshape(-1));
        using Scalar offset = config.TextTokens, one = 1;   // image code k is output class text_tokens + k (integer alpha: the codes are int64)
        var imageTargets = image.add(offset, one).reshape(-1);
        var imageLoss = F.cross_entropy(logits.narrow(1, t - 1, image.shape[1]).reshape(-1, classes), imageTargets);
        using Scalar wt = textWeight, wi = imageWeight, sum = textWeight + imageWeight;
        var total = textLoss.mul(wt).Plus(imageLoss.mul(wi)).div(sum);
        return new DalleLossParts(total.MoveToOuterDisposeScope(), textLoss.MoveToOuterDisposeScope(), imageLoss.MoveToOuterDisposeScope());
    }
}
