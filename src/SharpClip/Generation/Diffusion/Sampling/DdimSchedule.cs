namespace SharpClip.Generation.Diffusion.Sampling;

/// <summary>
/// The timesteps and coefficients of a DDIM run, exactly as LDM's <c>DDIMSampler.make_schedule</c> makes them.
/// 'uniform' spacing takes every <c>c = T / S</c>-th timestep plus one: when T is not a multiple of S that is more
/// than S steps (S = 6 gives 7), and the reference runs them all, so this does too.
/// </summary>
public sealed class DdimSchedule
{
    DdimSchedule(long[] timesteps, float[] alphas, float[] alphasPrev, float[] sigmas, float[] sqrtOneMinusAlphas,
        float[] modelSqrtAlphas, float[] modelSqrtOneMinusAlphas)
    {
        ModelSqrtAlphas = modelSqrtAlphas;
        ModelSqrtOneMinusAlphas = modelSqrtOneMinusAlphas;
        Timesteps = timesteps;
        Alphas = alphas;
        AlphasPrev = alphasPrev;
        Sigmas = sigmas;
        SqrtOneMinusAlphas = sqrtOneMinusAlphas;
    }

    /// <summary>The DDPM timesteps, ascending (<c>ddim_timesteps</c>); sampling runs them in reverse.</summary>
    public IReadOnlyList<long> Timesteps { get; }

    /// <summary>ᾱ at each timestep (parallel to <see cref="Timesteps"/>, ascending).</summary>
    public IReadOnlyList<float> Alphas { get; }

    /// <summary>ᾱ of the previous DDIM timestep; for the first (t = 1) it is ᾱ_0, not 1, as in the reference.</summary>
    public IReadOnlyList<float> AlphasPrev { get; }

    /// <summary>σ of each step: η·√((1-ᾱ_prev)/(1-ᾱ)·(1-ᾱ/ᾱ_prev)); all 0 for η = 0 (deterministic DDIM).</summary>
    public IReadOnlyList<float> Sigmas { get; }

    /// <summary>√(1-ᾱ) in float32.</summary>
    public IReadOnlyList<float> SqrtOneMinusAlphas { get; }

    /// <summary>
    /// The model's <c>sqrt_alphas_cumprod</c> at each timestep (float64 square root stored float32): the v branch of
    /// ldm's <c>p_sample_ddim</c> converts v with the model's tables, not the DDIM ones.
    /// </summary>
    public IReadOnlyList<float> ModelSqrtAlphas { get; }

    /// <summary>The model's <c>sqrt_one_minus_alphas_cumprod</c> at each timestep.</summary>
    public IReadOnlyList<float> ModelSqrtOneMinusAlphas { get; }

    /// <summary>Number of U-Net calls the run makes (can exceed the requested steps, see the class remarks).</summary>
    public int Count => Timesteps.Count;

    /// <summary><c>make_ddim_timesteps('uniform', steps, T)</c>: <c>range(0, T, T // steps) + 1</c>.</summary>
    public static long[] UniformTimesteps(int steps, int trainingTimesteps)
    {
        if (steps < 1 || steps > trainingTimesteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"DDIM steps must be 1..{trainingTimesteps}");
        int c = trainingTimesteps / steps;
        var result = new List<long>();
        for (long t = 0; t < trainingTimesteps; t += c) result.Add(t + 1);
        return [.. result];
    }

    /// <summary>The reference's DDIM parameters for <paramref name="steps"/> uniform steps of <paramref name="schedule"/>.</summary>
    /// <param name="schedule">The model's training schedule.</param>
    /// <param name="steps">Requested steps (the run may take a few more; see <see cref="Count"/>).</param>
    /// <param name="eta">0 for deterministic DDIM, 1 for DDPM-like noise.</param>
    public static DdimSchedule Uniform(NoiseSchedule schedule, int steps, double eta = 0.0)
    {
        var ts = UniformTimesteps(steps, schedule.Timesteps);
        if (ts[^1] >= schedule.Timesteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps,
                $"{steps} uniform DDIM steps reach timestep {ts[^1]}, past the schedule's last ({schedule.Timesteps - 1}); the reference fails here too — pick another step count");
        if (eta < 0) throw new ArgumentOutOfRangeException(nameof(eta), eta, "eta must be ≥ 0");
        var ac = schedule.AlphasCumprod;
        var alphas = ts.Select(t => ac[(int)t]).ToArray();
        var alphasPrev = new float[ts.Length];
        alphasPrev[0] = ac[0];
        for (int i = 1; i < ts.Length; i++) alphasPrev[i] = ac[(int)ts[i - 1]];
        // numpy float64 over the float32 values, as make_ddim_sampling_parameters; stored float32.
        var sigmas = alphas.Select((a, i) => (float)(eta * Math.Sqrt((1 - (double)alphasPrev[i]) / (1 - (double)a) * (1 - (double)a / alphasPrev[i])))).ToArray();
        var sqrtOneMinus = alphas.Select(a => MathF.Sqrt(1f - a)).ToArray();
        float[] sqrtAc = schedule.SqrtAlphasCumprod, sqrtOneMinusAc = schedule.SqrtOneMinusAlphasCumprod;
        return new DdimSchedule(ts, alphas, alphasPrev, sigmas, sqrtOneMinus,
            [.. ts.Select(t => sqrtAc[(int)t])], [.. ts.Select(t => sqrtOneMinusAc[(int)t])]);
    }
}
