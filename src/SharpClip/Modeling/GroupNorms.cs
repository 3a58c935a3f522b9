using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// Group normalisation as PyTorch builds it: affine, weight 1 and bias 0. Every model that normalises by groups
/// (the diffusion U-Net, the KL autoencoder) makes its norms here rather than calling <c>nn.GroupNorm</c> directly.
/// </summary>
/// <remarks>
/// TorchSharp 0.107's <c>nn.GroupNorm</c> allocates weight and bias with <c>torch.empty</c> and never initialises
/// them, so a fresh norm scales by whatever the allocator returned (seen: ≈0, which made a new autoencoder's output
/// constant over the image and stopped every gradient). Loading a checkpoint overwrites them and hides the fault;
/// training from scratch, or any test of a freshly built model, does not.
/// </remarks>
public static class GroupNorms
{
    /// <summary>An affine GroupNorm over <paramref name="channels"/> in <paramref name="groups"/> groups, weight 1, bias 0.</summary>
    /// <param name="groups">Number of groups; must divide <paramref name="channels"/>.</param>
    /// <param name="channels">Channels of the input, [batch, channels, ...].</param>
    /// <param name="eps">Added to the variance (the reference's value matters for parity: 1e-5 or 1e-6).</param>
    public static GroupNorm Create(int groups, long channels, double eps)
    {
        if (groups <= 0 || channels % groups != 0)
            throw new ArgumentException($"GroupNorm: {channels} channels do not split into {groups} groups");
        var norm = nn.GroupNorm(groups, channels, eps: eps);
        using (torch.no_grad())
        {
            using Scalar one = 1.0;   // held for the op (see KeptScalars)
            norm.weight!.fill_(one);
            norm.bias!.zero_();
        }
        return norm;
    }
}
