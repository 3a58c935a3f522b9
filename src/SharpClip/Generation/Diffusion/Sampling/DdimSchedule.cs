namespace SharpClip.Generation.Diffusion.Sampling;

/// <summary>How a DDIM run spaces its timesteps over the training schedule.</summary>
public enum TimestepSpacing
{
    /// <summary>LDM's <c>make_ddim_timesteps('uniform')</c>: every <c>T // S</c>-th timestep plus the offset, as many as
    /// fit below T — more than S when T is not a multiple of S. What CompVis's scripts (and SD's single files) run.</summary>
    LdmUniform,
    /// <summary>diffusers' "leading": <c>arange(S) · (T // S)</c> plus <c>steps_offset</c>, exactly S steps.</summary>
    Leading,
    /// <summary>diffusers' "trailing": <c>round(arange(T, 0, −T/S)) − 1</c>, ending at the last training timestep.</summary>
    Trailing,
    /// <summary>diffusers' "linspace": <c>round(linspace(0, T − 1, S))</c>.</summary>
    Linspace,
}

/// <summary>
/// Which timesteps a DDIM run visits and what ᾱ its last step lands on — the knobs diffusers' <c>DDIMScheduler</c>
/// reads from a scheduler config (<c>timestep_spacing</c>, <c>steps_offset</c>, <c>set_alpha_to_one</c>).
/// </summary>
/// <param name="Spacing">How the steps are spread over the training timesteps.</param>
/// <param name="StepsOffset">Added to every timestep (LDM's uniform spacing and diffusers' "leading"; 1 in SD's configs).</param>
/// <param name="FinalAlphaIsOne">The last step ends at ᾱ = 1 (a clean sample) rather than at ᾱ_0, the first training
/// timestep's, which is what LDM does and SD's configs ask for (<c>set_alpha_to_one: false</c>).</param>
public sealed record DdimTimesteps(TimestepSpacing Spacing, int StepsOffset, bool FinalAlphaIsOne)
{
    /// <summary>LDM's <c>DDIMSampler</c>: uniform spacing + 1, ending at ᾱ_0. The default everywhere but a diffusers folder.</summary>
    public static DdimTimesteps Ldm { get; } = new(TimestepSpacing.LdmUniform, 1, false);

    /// <summary>diffusers' <c>DDIMScheduler</c> defaults, for a scheduler config that leaves the fields out.</summary>
    public static DdimTimesteps DiffusersDefaults { get; } = new(TimestepSpacing.Leading, 0, true);

    public override string ToString() => Spacing switch
    {
        TimestepSpacing.LdmUniform => $"ldm uniform + {StepsOffset}",
        TimestepSpacing.Leading => $"leading + {StepsOffset}",
        _ => Spacing.ToString().ToLowerInvariant(),
    } + (FinalAlphaIsOne ? ", ending at ᾱ = 1" : ", ending at ᾱ_0");
}

/// <summary>
/// The timesteps and coefficients of a DDIM run, exactly as LDM's <c>DDIMSampler.make_schedule</c> makes them or, for
/// a diffusers folder, as diffusers' <c>DDIMScheduler.set_timesteps</c> and <c>step</c> pick them.
/// LDM's 'uniform' spacing takes every <c>c = T / S</c>-th timestep plus one: when T is not a multiple of S that is more
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

    /// <summary>
    /// ᾱ of the previous DDIM timestep; for the first it is ᾱ_0, not 1, as in the reference (or 1 with
    /// <see cref="DdimTimesteps.FinalAlphaIsOne"/>). diffusers takes the previous timestep as <c>t − T // S</c> whatever
    /// the spacing, and so does a diffusers run here.
    /// </summary>
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

    /// <summary>
    /// diffusers' <c>DDIMScheduler.set_timesteps</c>, ascending: "leading" <c>arange(S)·(T // S) + steps_offset</c>,
    /// "trailing" <c>round(arange(T, 0, −T/S)) − 1</c>, "linspace" <c>round(linspace(0, T − 1, S))</c> (numpy's
    /// round half to even, float64).
    /// </summary>
    public static long[] DiffusersTimesteps(TimestepSpacing spacing, int steps, int trainingTimesteps, int stepsOffset)
    {
        if (steps < 1 || steps > trainingTimesteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"DDIM steps must be 1..{trainingTimesteps}");
        long[] result = spacing switch
        {
            TimestepSpacing.Leading => [.. Enumerable.Range(0, steps).Select(i => (long)i * (trainingTimesteps / steps) + stepsOffset)],
            TimestepSpacing.Trailing => Trailing(steps, trainingTimesteps),
            TimestepSpacing.Linspace => [.. Enumerable.Range(0, steps).Select(i => (long)Math.Round(Linspace(0, trainingTimesteps - 1, steps, i), MidpointRounding.ToEven))],
            _ => throw new ArgumentException($"{spacing} is not one of diffusers' spacings", nameof(spacing)),
        };
        Array.Sort(result);
        return result;
    }

    // numpy.arange(T, 0, -T/S): start + i·step for i < ceil((stop − start)/step), each rounded half to even, minus 1.
    static long[] Trailing(int steps, int trainingTimesteps)
    {
        double step = -(double)trainingTimesteps / steps;
        int count = (int)Math.Ceiling((0 - trainingTimesteps) / step);
        return [.. Enumerable.Range(0, count).Select(i => (long)Math.Round(trainingTimesteps + i * step, MidpointRounding.ToEven) - 1)];
    }

    // numpy.linspace's value i: start + i·step, the last one exactly stop.
    static double Linspace(double start, double stop, int count, int i) =>
        count == 1 ? start : i == count - 1 ? stop : start + i * ((stop - start) / (count - 1));

    /// <summary>The reference's DDIM parameters for <paramref name="steps"/> uniform steps of <paramref name="schedule"/>.</summary>
    /// <param name="schedule">The model's training schedule.</param>
    /// <param name="steps">Requested steps (the run may take a few more; see <see cref="Count"/>).</param>
    /// <param name="eta">0 for deterministic DDIM, 1 for DDPM-like noise.</param>
    public static DdimSchedule Uniform(NoiseSchedule schedule, int steps, double eta = 0.0) => Create(schedule, steps, eta, DdimTimesteps.Ldm);

    /// <summary>
    /// A DDIM run's parameters with the given timestep rule: LDM's (<see cref="DdimTimesteps.Ldm"/>, the reference's
    /// numbers bit for bit) or diffusers' <c>DDIMScheduler</c> as a scheduler config sets it up.
    /// </summary>
    /// <param name="schedule">The model's training schedule.</param>
    /// <param name="steps">Requested steps.</param>
    /// <param name="eta">0 for deterministic DDIM, 1 for DDPM-like noise.</param>
    /// <param name="rule">Spacing, offset and the final ᾱ.</param>
    public static DdimSchedule Create(NoiseSchedule schedule, int steps, double eta, DdimTimesteps rule)
    {
        if (eta < 0) throw new ArgumentOutOfRangeException(nameof(eta), eta, "eta must be ≥ 0");
        int T = schedule.Timesteps;
        var ac = schedule.AlphasCumprod;
        float final = rule.FinalAlphaIsOne ? 1f : ac[0];
        long[] ts;
        float[] alphasPrev;
        if (rule.Spacing == TimestepSpacing.LdmUniform)
        {
            ts = UniformTimesteps(steps, T);
            if (rule.StepsOffset != 1) for (int i = 0; i < ts.Length; i++) ts[i] += rule.StepsOffset - 1;
            alphasPrev = new float[ts.Length];
            alphasPrev[0] = final;
            for (int i = 1; i < ts.Length; i++) alphasPrev[i] = ac[(int)ts[i - 1]];
        }
        else
        {
            ts = DiffusersTimesteps(rule.Spacing, steps, T, rule.StepsOffset);
            // DDIMScheduler.step: prev_timestep = t − T // S, ᾱ of it or the final ᾱ below 0.
            alphasPrev = [.. ts.Select(t => t - T / steps).Select(prev => prev >= 0 && prev < T ? ac[(int)prev] : final)];
        }
        if (ts[^1] >= T || ts[0] < 0)
            throw new ArgumentOutOfRangeException(nameof(steps), steps,
                $"{steps} DDIM steps ({rule}) reach timestep {(ts[0] < 0 ? ts[0] : ts[^1])}, outside the schedule's 0..{T - 1}; the reference fails here too — pick another step count");
        var alphas = ts.Select(t => ac[(int)t]).ToArray();
        // numpy float64 over the float32 values, as make_ddim_sampling_parameters; stored float32.
        var sigmas = alphas.Select((a, i) => (float)(eta * Math.Sqrt((1 - (double)alphasPrev[i]) / (1 - (double)a) * (1 - (double)a / alphasPrev[i])))).ToArray();
        var sqrtOneMinus = alphas.Select(a => MathF.Sqrt(1f - a)).ToArray();
        float[] sqrtAc = schedule.SqrtAlphasCumprod, sqrtOneMinusAc = schedule.SqrtOneMinusAlphasCumprod;
        return new DdimSchedule(ts, alphas, alphasPrev, sigmas, sqrtOneMinus,
            [.. ts.Select(t => sqrtAc[(int)t])], [.. ts.Select(t => sqrtOneMinusAc[(int)t])]);
    }
}
