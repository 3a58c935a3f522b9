using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Sampling;

/// <summary>
/// Classifier-free guidance as CompVis's samplers compute it: one batched U-Net call on <c>cat([x, x])</c> with the
/// unconditional context first, <c>ε = ε_uncond + s·(ε_cond − ε_uncond)</c>; with no unconditional context or a scale
/// of 1 it is a plain conditional call. Shared by every sampler, so they guide identically.
/// </summary>
internal sealed class ClassifierFreeGuidance : IDisposable
{
    readonly Tensor _cond;
    readonly Tensor? _contextIn;     // [2·batch, tokens, D]: uncond then cond
    readonly Scalar _scale, _one;

    public ClassifierFreeGuidance(Tensor cond, Tensor? uncond, double guidanceScale)
    {
        if (uncond is not null && !uncond.shape.SequenceEqual(cond.shape))
            throw new ArgumentException($"uncond [{string.Join(",", uncond.shape)}] must match cond [{string.Join(",", cond.shape)}]", nameof(uncond));
        _cond = cond;
        _scale = guidanceScale;
        _one = 1.0;
        if (uncond is not null && guidanceScale != 1.0) _contextIn = torch.cat([uncond, cond], 0);
    }

    public bool Guided => _contextIn is not null;

    /// <summary>
    /// The guided noise prediction for <paramref name="x"/> [batch, C, H, W], and the U-Net's two halves (the
    /// unconditional one null when unguided). <paramref name="timesteps"/> makes the timestep vector for a batch of n.
    /// The tensors belong to the caller's dispose scope.
    /// </summary>
    public (Tensor Eps, Tensor EpsCond, Tensor? EpsUncond) Predict(NoisePredictor model, Tensor x, Func<long, Tensor> timesteps)
    {
        long batch = x.shape[0];
        if (_contextIn is null)
        {
            var eps = model(x, timesteps(batch), _cond);
            return (eps, eps, null);
        }
        var halves = model(torch.cat([x, x], 0), timesteps(2 * batch), _contextIn).chunk(2, 0);   // uncond first
        Tensor epsUncond = halves[0], epsCond = halves[1];
        return (epsUncond.add(epsCond.sub(epsUncond).mul(_scale), _one), epsCond, epsUncond);
    }

    public void Dispose()
    {
        _contextIn?.Dispose();
        _scale.Dispose();
        _one.Dispose();
    }
}
