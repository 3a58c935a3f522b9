using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Sampling;

/// <summary>The noise predictor a sampler calls: ε = model(x [batch,C,H,W], t [batch] int64, context [batch,tokens,D]).</summary>
public delegate Tensor NoisePredictor(Tensor x, Tensor timesteps, Tensor context);

/// <summary>
/// What one sampling step produced, handed to the step callback. The tensors belong to the sampler and are freed
/// after the callback returns: clone what you keep.
/// </summary>
/// <param name="Index">0-based step number in the order run.</param>
/// <param name="Count">Steps in the run.</param>
/// <param name="Timestep">The DDPM timestep the U-Net saw (rounded: the k-diffusion samplers use fractional ones).</param>
/// <param name="Latent">[batch, C, H, W] the latent after the step.</param>
/// <param name="PredictedX0">[batch, C, H, W] the step's estimate of the clean latent.</param>
/// <param name="EpsUncond">[batch, C, H, W] the unconditional half of the U-Net output (ε, or v for a v-prediction model); null without guidance.</param>
/// <param name="EpsCond">[batch, C, H, W] the conditional half (the only prediction without guidance).</param>
public sealed record SamplerStep(int Index, int Count, long Timestep, Tensor Latent, Tensor PredictedX0, Tensor? EpsUncond, Tensor EpsCond);

/// <summary>
/// Denoising diffusion implicit models (Song et al. 2020) exactly as LDM's <c>DDIMSampler.p_sample_ddim</c> runs
/// them, with classifier-free guidance: one batched U-Net call on <c>[x, x]</c> with the unconditional states FIRST
/// and the prompt's second, <c>ε = ε_u + s·(ε_c − ε_u)</c>, then
/// <c>x̂₀ = (x − √(1−ᾱ_t)·ε)/√ᾱ_t</c> and <c>x_prev = √ᾱ_prev·x̂₀ + √(1−ᾱ_prev−σ²)·ε + σ·z</c>.
/// The coefficients are float32 tensors of shape [batch,1,1,1] as in the reference, so the float32 arithmetic is
/// the same operation for operation.
/// </summary>
public static class DdimSampler
{
    /// <summary>Runs the whole DDIM chain from <paramref name="xT"/>.</summary>
    /// <param name="model">The noise predictor (the U-Net's forward).</param>
    /// <param name="xT">[batch, C, H, W] the initial noise.</param>
    /// <param name="cond">[batch, tokens, D] the prompt's text states.</param>
    /// <param name="uncond">[batch, tokens, D] the negative/empty prompt's states; null (or scale 1) runs unguided.</param>
    /// <param name="guidanceScale">Classifier-free guidance scale s (SD's default 7.5).</param>
    /// <param name="schedule">The DDIM timesteps and coefficients.</param>
    /// <param name="noise">Random source for σ·z when η > 0 (unused at η = 0); null draws from torch's global generator.</param>
    /// <param name="onStep">Called after every step (progress, inspection).</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <param name="startIndex">
    /// The schedule entry to start from, running it and every lower one (img2img: <paramref name="xT"/> is then the
    /// init latent noised by <see cref="StochasticEncode"/>); null runs the whole schedule.
    /// </param>
    /// <param name="prediction">What the model outputs: ε, or v (guided as v, then turned into ε and x̂₀ with the
    /// model's √ᾱ tables, as <c>p_sample_ddim</c>'s <c>parameterization == "v"</c> branch).</param>
    /// <returns>[batch, C, H, W] the final latent x₀.</returns>
    public static Tensor Sample(NoisePredictor model, Tensor xT, Tensor cond, Tensor? uncond, double guidanceScale, DdimSchedule schedule,
        BatchNoise? noise = null, Action<SamplerStep>? onStep = null, CancellationToken cancellationToken = default, int? startIndex = null,
        Prediction prediction = Prediction.Epsilon)
    {
        long batch = xT.shape[0];
        int first = startIndex ?? schedule.Count - 1;
        if (first < 0 || first >= schedule.Count)
            throw new ArgumentOutOfRangeException(nameof(startIndex), startIndex, $"the schedule has entries 0..{schedule.Count - 1}");
        int count = first + 1;
        if (cond.shape[0] != batch) throw new ArgumentException($"cond has {cond.shape[0]} rows for {batch} latents", nameof(cond));
        // No dispose scope spans the loop: tensors the callback makes (clones it keeps) belong to the caller's scope.
        using var guidance = new ClassifierFreeGuidance(cond, uncond, guidanceScale);
        var x = xT.alias();
        try
        {
            for (int step = 0; step < count; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int index = first - step;
                long t = schedule.Timesteps[index];
                Tensor next, predX0, epsCond;
                Tensor? epsUncond = null;
                using (var scope = torch.NewDisposeScope())
                {
                    Tensor output;
                    using Scalar timestep = t;   // held while the model runs (a temporary Scalar can be finalised mid-op)
                    (output, epsCond, epsUncond) = guidance.Predict(model, x, n => torch.full([n], timestep, dtype: ScalarType.Int64, device: x.device));
                    var (eps, x0) = prediction == Prediction.V ? FromV(x, output, schedule, index) : (output, null);
                    (next, predX0) = Step(x, eps, schedule, index, noise, x0);
                    next.MoveToOuterDisposeScope();
                    predX0.MoveToOuterDisposeScope();
                    epsCond.MoveToOuterDisposeScope();
                    epsUncond?.MoveToOuterDisposeScope();
                }
                try { onStep?.Invoke(new SamplerStep(step, count, t, next, predX0, epsUncond, epsCond)); }
                finally
                {
                    predX0.Dispose();
                    epsCond.Dispose();
                    epsUncond?.Dispose();
                }
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
    }

    /// <summary>One DDIM update from <paramref name="x"/> at schedule entry <paramref name="index"/> given the (guided) ε.</summary>
    /// <returns>The new latent and the predicted clean latent, both [batch, C, H, W].</returns>
    /// <param name="x">[batch, C, H, W] the latent x_t.</param>
    /// <param name="eps">[batch, C, H, W] the (guided) ε.</param>
    /// <param name="schedule">The run's DDIM tables.</param>
    /// <param name="index">The schedule entry of this step.</param>
    /// <param name="noise">Random source for σ·z when η > 0.</param>
    /// <param name="predictedX0">x̂₀ when the model gave it another way (v-prediction); null computes it from ε.</param>
    public static (Tensor Next, Tensor PredictedX0) Step(Tensor x, Tensor eps, DdimSchedule schedule, int index, BatchNoise? noise = null,
        Tensor? predictedX0 = null)
    {
        using var scope = torch.NewDisposeScope();
        long[] coefficientShape = [x.shape[0], 1, 1, 1];
        Tensor Full(float value)
        {
            using Scalar held = value;   // held for the op (Modeling/KeptScalars)
            return torch.full(coefficientShape, held, dtype: x.dtype, device: x.device);
        }
        var aT = Full(schedule.Alphas[index]);
        var aPrev = Full(schedule.AlphasPrev[index]);
        var sigma = Full(schedule.Sigmas[index]);
        var sqrtOneMinusAT = Full(schedule.SqrtOneMinusAlphas[index]);

        var predX0 = predictedX0 ?? x.sub(sqrtOneMinusAT.mul(eps)).div(aT.sqrt());     // x̂₀
        var dirXt = torch.ones_like(aPrev).sub(aPrev).sub(sigma.Squared()).sqrt().mul(eps); // direction pointing to x_t
        var next = aPrev.sqrt().mul(predX0).Plus(dirXt);
        if (schedule.Sigmas[index] != 0f)
            next = next.Plus(sigma.mul(noise?.Randn(x.shape, x.dtype, x.device) ?? torch.randn(x.shape, dtype: x.dtype, device: x.device)));
        return (next.MoveToOuterDisposeScope(), predX0.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// A v-prediction's ε and x̂₀ at schedule entry <paramref name="index"/>, as ldm's <c>predict_eps_from_z_and_v</c>
    /// (<c>√ᾱ·v + √(1−ᾱ)·x</c>) and <c>predict_start_from_z_and_v</c> (<c>√ᾱ·x − √(1−ᾱ)·v</c>), with the model's
    /// float32 tables as [batch,1,1,1] tensors.
    /// </summary>
    /// <param name="x">[batch, C, H, W] the latent x_t.</param>
    /// <param name="v">[batch, C, H, W] the (guided) model output.</param>
    /// <param name="schedule">The run's DDIM tables (their model √ᾱ columns).</param>
    /// <param name="index">The schedule entry of this step.</param>
    public static (Tensor Eps, Tensor PredictedX0) FromV(Tensor x, Tensor v, DdimSchedule schedule, int index)
    {
        using var scope = torch.NewDisposeScope();
        long[] coefficientShape = [x.shape[0], 1, 1, 1];
        using Scalar a = schedule.ModelSqrtAlphas[index], oneMinusA = schedule.ModelSqrtOneMinusAlphas[index];   // held for the ops
        var sqrtA = torch.full(coefficientShape, a, dtype: x.dtype, device: x.device);
        var sqrtOneMinusA = torch.full(coefficientShape, oneMinusA, dtype: x.dtype, device: x.device);
        var eps = sqrtA.mul(v).Plus(sqrtOneMinusA.mul(x));
        var x0 = sqrtA.mul(x).sub(sqrtOneMinusA.mul(v));
        return (eps.MoveToOuterDisposeScope(), x0.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// img2img's forward noising to schedule entry <paramref name="index"/>, as LDM's <c>DDIMSampler.stochastic_encode</c>:
    /// <c>√ᾱ·x₀ + √(1−ᾱ)·z</c> with the float32 DDIM tables. The reference's img2img noises to entry <c>t_enc</c> and
    /// then denoises from entry <c>t_enc − 1</c>; the pipeline does the same.
    /// </summary>
    /// <param name="x0">[batch, C, H, W] the clean latent (scale factor applied).</param>
    /// <param name="z">[batch, C, H, W] standard normal noise.</param>
    /// <param name="schedule">The run's DDIM tables.</param>
    /// <param name="index">The entry whose ᾱ the latent is noised to.</param>
    public static Tensor StochasticEncode(Tensor x0, Tensor z, DdimSchedule schedule, int index)
    {
        using var scope = torch.NewDisposeScope();
        long[] coefficientShape = [x0.shape[0], 1, 1, 1];
        using Scalar a = schedule.Alphas[index], oneMinus = schedule.SqrtOneMinusAlphas[index];   // held for the ops
        var sqrtA = torch.full(coefficientShape, a, dtype: x0.dtype, device: x0.device).sqrt();
        var sqrtOneMinus = torch.full(coefficientShape, oneMinus, dtype: x0.dtype, device: x0.device);
        return sqrtA.mul(x0).Plus(sqrtOneMinus.mul(z)).MoveToOuterDisposeScope();
    }
}
