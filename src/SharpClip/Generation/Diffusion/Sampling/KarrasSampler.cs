using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Sampling;

/// <summary>The k-diffusion samplers (Karras et al. 2022 formulation, noise level σ instead of timestep).</summary>
public enum KSamplerKind
{
    /// <summary>First-order ODE step: deterministic.</summary>
    Euler,
    /// <summary>Euler steps to a lower σ plus fresh noise back up (η = 1): stochastic, seeded.</summary>
    EulerAncestral,
    /// <summary>DPM-Solver++(2M): a second-order multistep solver on the denoised predictions; deterministic.</summary>
    DpmPlusPlus2M,
}

/// <summary>
/// Samplers over noise levels σ, as k-diffusion writes them, for an ε- or v-predicting model trained on a discrete
/// schedule: σ_t = √((1 − ᾱ_t)/ᾱ_t); the model sees <c>x·1/√(σ²+1)</c> at the (fractional) timestep whose σ this is,
/// interpolated in log σ, and the denoised estimate is <c>x − σ·ε</c> (k-diffusion's <c>CompVisDenoiser</c>).
/// Guidance is the same batched uncond-first call as DDIM.
/// </summary>
public static class KarrasSampler
{
    /// <summary>σ of every training timestep, ascending: √((1 − ᾱ_t)/ᾱ_t) from the float32 ᾱ.</summary>
    public static double[] ModelSigmas(NoiseSchedule schedule) =>
        [.. schedule.AlphasCumprod.Select(a => Math.Sqrt((1 - (double)a) / a))];

    /// <summary>k-diffusion's <c>get_sigmas_karras</c>: σ_i = (σ_max^(1/ρ) + i/(n−1)·(σ_min^(1/ρ) − σ_max^(1/ρ)))^ρ, then 0.</summary>
    public static double[] KarrasSigmas(int steps, double sigmaMin, double sigmaMax, double rho = 7.0)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "need at least one step");
        double minInv = Math.Pow(sigmaMin, 1 / rho), maxInv = Math.Pow(sigmaMax, 1 / rho);
        var sigmas = new double[steps + 1];
        for (int i = 0; i < steps; i++)
        {
            double ramp = steps == 1 ? 0 : (double)i / (steps - 1);
            sigmas[i] = Math.Pow(maxInv + ramp * (minInv - maxInv), rho);
        }
        return sigmas;
    }

    /// <summary>k-diffusion's discrete <c>get_sigmas</c>: timesteps linspace(T−1, 0, n) mapped to σ (log-linear between integers), then 0.</summary>
    public static double[] DiscreteSigmas(NoiseSchedule schedule, int steps)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "need at least one step");
        var logSigmas = ModelSigmas(schedule).Select(s => Math.Log(s)).ToArray();
        var sigmas = new double[steps + 1];
        for (int i = 0; i < steps; i++)
        {
            double t = steps == 1 ? logSigmas.Length - 1 : (logSigmas.Length - 1) * (1 - (double)i / (steps - 1));
            int low = (int)Math.Floor(t), high = Math.Min(low + 1, logSigmas.Length - 1);
            double w = t - low;
            sigmas[i] = Math.Exp((1 - w) * logSigmas[low] + w * logSigmas[high]);
        }
        return sigmas;
    }

    /// <summary>The fractional training timestep whose σ is <paramref name="sigma"/> (log-σ interpolation, k-diffusion's <c>sigma_to_t</c>).</summary>
    public static double SigmaToTimestep(double sigma, IReadOnlyList<double> logSigmas)
    {
        double ls = Math.Log(sigma);
        if (ls <= logSigmas[0]) return 0;
        if (ls >= logSigmas[^1]) return logSigmas.Count - 1;
        int low = 0;
        while (low + 1 < logSigmas.Count - 1 && logSigmas[low + 1] <= ls) low++;
        double w = (logSigmas[low] - ls) / (logSigmas[low] - logSigmas[low + 1]);
        return low + w;
    }

    /// <summary>
    /// Runs a k-diffusion sampler from unit Gaussian <paramref name="noise"/> (scaled by σ_0 here), or for img2img from
    /// <paramref name="initLatent"/> + σ_0·noise with <paramref name="sigmas"/> the tail of a longer schedule.
    /// </summary>
    /// <param name="model">The ε predictor (the U-Net), called with float32 fractional timesteps.</param>
    /// <param name="noise">[batch, C, H, W] standard normal noise.</param>
    /// <param name="cond">[batch, tokens, D] prompt states.</param>
    /// <param name="uncond">[batch, tokens, D] negative prompt states; null (or scale 1) runs unguided.</param>
    /// <param name="guidanceScale">Classifier-free guidance scale.</param>
    /// <param name="schedule">The model's training schedule (for σ ↔ t).</param>
    /// <param name="sigmas">Decreasing noise levels ending in 0 (<see cref="KarrasSigmas"/> or <see cref="DiscreteSigmas"/>).</param>
    /// <param name="kind">Which sampler.</param>
    /// <param name="generator">Noise for the ancestral sampler; null draws from torch's global generator.</param>
    /// <param name="onStep">Called after each step; its tensors are freed when it returns.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <param name="initLatent">[batch, C, H, W] img2img's clean latent, or null to start from noise alone.</param>
    /// <param name="prediction">What the model outputs: ε (<c>CompVisDenoiser</c>: x̂₀ = x − σ·ε) or v
    /// (<c>CompVisVDenoiser</c>: x̂₀ = x/(σ²+1) − σ/√(σ²+1)·v).</param>
    /// <returns>[batch, C, H, W] the final latent.</returns>
    public static Tensor Sample(NoisePredictor model, Tensor noise, Tensor cond, Tensor? uncond, double guidanceScale, NoiseSchedule schedule,
        IReadOnlyList<double> sigmas, KSamplerKind kind, BatchNoise? generator = null, Action<SamplerStep>? onStep = null,
        CancellationToken cancellationToken = default, Tensor? initLatent = null, Prediction prediction = Prediction.Epsilon)
    {
        if (sigmas.Count < 2 || sigmas[^1] != 0) throw new ArgumentException("sigmas must be decreasing and end with 0", nameof(sigmas));
        var logSigmas = ModelSigmas(schedule).Select(s => Math.Log(s)).ToArray();
        using var guidance = new ClassifierFreeGuidance(cond, uncond, guidanceScale);
        Tensor x;
        using (var s0 = (Scalar)sigmas[0])
        using (var one0 = (Scalar)1.0)
            x = initLatent is null ? noise.mul(s0) : initLatent.add(noise.mul(s0), one0);
        Tensor? oldDenoised = null;
        try
        {
            int steps = sigmas.Count - 1;
            for (int i = 0; i < steps; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                double sigma = sigmas[i], sigmaNext = sigmas[i + 1];
                double t = SigmaToTimestep(sigma, logSigmas);
                Tensor next, denoised, epsCond;
                Tensor? epsUncond = null;
                using (var scope = torch.NewDisposeScope())
                {
                    using Scalar cIn = 1 / Math.Sqrt(sigma * sigma + 1), sigmaS = sigma;
                    var scaled = x.mul(cIn);
                    Tensor output;
                    using Scalar timestep = t;   // held while the model runs
                    (output, epsCond, epsUncond) = guidance.Predict(model, scaled, n => torch.full([n], timestep, dtype: ScalarType.Float32, device: x.device));
                    if (prediction == Prediction.V)
                    {
                        using Scalar cSkip = 1 / (sigma * sigma + 1), cOut = -sigma / Math.Sqrt(sigma * sigma + 1);
                        denoised = x.mul(cSkip).Plus(output.mul(cOut));                           // x̂₀ = c_skip·x + c_out·v
                    }
                    else denoised = x.sub(output.mul(sigmaS));                                    // x̂₀ = x − σ·ε
                    next = kind switch
                    {
                        KSamplerKind.Euler => EulerStep(x, denoised, sigma, sigmaNext),
                        KSamplerKind.EulerAncestral => AncestralStep(x, denoised, sigma, sigmaNext, generator),
                        _ => DpmPlusPlus2MStep(x, denoised, oldDenoised, sigma, sigmaNext, i == 0 ? double.NaN : sigmas[i - 1]),
                    };
                    next.MoveToOuterDisposeScope();
                    denoised.MoveToOuterDisposeScope();
                    epsCond.MoveToOuterDisposeScope();
                    epsUncond?.MoveToOuterDisposeScope();
                }
                try { onStep?.Invoke(new SamplerStep(i, steps, (long)Math.Round(t), next, denoised, epsUncond, epsCond)); }
                finally
                {
                    epsCond.Dispose();
                    epsUncond?.Dispose();
                }
                oldDenoised?.Dispose();
                oldDenoised = denoised;
                x.Dispose();
                x = next;
            }
            return x;
        }
        catch
        {
            x.Dispose();
            throw;
        }
        finally
        {
            oldDenoised?.Dispose();
        }
    }

    // d = (x − x̂₀)/σ; x ← x + d·(σ_next − σ)
    static Tensor EulerStep(Tensor x, Tensor denoised, double sigma, double sigmaNext)
    {
        using Scalar ratio = (sigmaNext - sigma) / sigma;
        return x.Plus(x.sub(denoised).mul(ratio));
    }

    // Euler to σ_down, then noise of σ_up so that σ_down² + σ_up² = σ_next² (η = 1).
    static Tensor AncestralStep(Tensor x, Tensor denoised, double sigma, double sigmaNext, BatchNoise? generator)
    {
        double up = Math.Min(sigmaNext, Math.Sqrt(sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext) / (sigma * sigma)));
        double down = Math.Sqrt(sigmaNext * sigmaNext - up * up);
        var next = EulerStep(x, denoised, sigma, down);
        if (sigmaNext == 0) return next;
        using Scalar upS = up;
        return next.Plus((generator?.Randn(x.shape, x.dtype, x.device) ?? torch.randn(x.shape, dtype: x.dtype, device: x.device)).mul(upS));
    }

    // DPM-Solver++(2M) in log-σ time λ = −log σ: first order on the first and last steps, else the two-point correction.
    static Tensor DpmPlusPlus2MStep(Tensor x, Tensor denoised, Tensor? oldDenoised, double sigma, double sigmaNext, double sigmaPrev)
    {
        if (sigmaNext == 0) return denoised.clone();
        double t = -Math.Log(sigma), tNext = -Math.Log(sigmaNext), h = tNext - t;
        using Scalar ratio = sigmaNext / sigma, weight = -Math.Exp(-h) + 1; // −expm1(−h)
        var d = denoised;
        if (oldDenoised is not null && !double.IsNaN(sigmaPrev))
        {
            double r = (t - -Math.Log(sigmaPrev)) / h;
            using Scalar a = 1 + 1 / (2 * r), b = 1 / (2 * r);
            d = denoised.mul(a).sub(oldDenoised.mul(b));
        }
        return x.mul(ratio).Plus(d.mul(weight));
    }
}
