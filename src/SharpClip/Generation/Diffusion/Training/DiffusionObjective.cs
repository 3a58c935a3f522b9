using SharpClip.Modeling;
using SharpClip.Generation.Diffusion.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Training;

/// <summary>
/// DDPM's training objective with ε-prediction, as LDM's <c>p_losses</c> (l2, no learned variance): draw t uniformly
/// from the schedule's timesteps, noise the clean latent to <c>x_t = √ᾱ_t · x₀ + √(1 − ᾱ_t) · ε</c>
/// (<c>q_sample</c>), and regress the U-Net's prediction onto ε by mean squared error.
/// </summary>
public sealed class DiffusionObjective
{
    readonly double[] _sqrtAlphasCumprod;
    readonly double[] _sqrtOneMinusAlphasCumprod;

    public DiffusionObjective(NoiseSchedule schedule)
    {
        Schedule = schedule;
        // The float32 buffer the sampler reads, so training and sampling see the same ᾱ.
        _sqrtAlphasCumprod = [.. schedule.AlphasCumprod.Select(a => Math.Sqrt(a))];
        _sqrtOneMinusAlphasCumprod = [.. schedule.AlphasCumprod.Select(a => Math.Sqrt(1 - (double)a))];
    }

    public NoiseSchedule Schedule { get; }

    /// <summary>t ~ U{0, …, T − 1}, one per sample.</summary>
    /// <returns>[batch] int64</returns>
    public Tensor SampleTimesteps(long batch, Generator generator) =>
        torch.randint(0, Schedule.Timesteps, [batch], dtype: ScalarType.Int64, generator: generator);

    /// <summary><c>q_sample</c>: x₀ noised to each sample's timestep.</summary>
    /// <param name="x0">[batch, c, h, w] clean latents (diffusion scale).</param>
    /// <param name="t">[batch] int64 timesteps.</param>
    /// <param name="noise">[batch, c, h, w] standard normal ε.</param>
    /// <returns>[batch, c, h, w]</returns>
    public Tensor Noise(Tensor x0, Tensor t, Tensor noise)
    {
        using var scope = torch.NewDisposeScope();
        var steps = t.data<long>().ToArray();
        var signal = torch.tensor(steps.Select(s => (float)_sqrtAlphasCumprod[s]).ToArray()).view(-1, 1, 1, 1);        // [batch, 1, 1, 1]
        var spread = torch.tensor(steps.Select(s => (float)_sqrtOneMinusAlphasCumprod[s]).ToArray()).view(-1, 1, 1, 1);
        return x0.mul(signal).Plus(noise.mul(spread)).MoveToOuterDisposeScope();
    }

    /// <summary>The ε-prediction loss: mean over every element of (ε̂ − ε)².</summary>
    public static Tensor Loss(Tensor predicted, Tensor noise) => nn.functional.mse_loss(predicted, noise);
}
