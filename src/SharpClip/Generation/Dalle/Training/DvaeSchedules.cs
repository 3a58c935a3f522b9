namespace SharpClip.Generation.Dalle.Training;

/// <summary>How the gumbel-softmax temperature falls from its start to its end value.</summary>
public enum TemperatureShape
{
    /// <summary>Half a cosine: the paper's.</summary>
    Cosine,
    /// <summary>Geometric: the same factor every step.</summary>
    Exponential,
}

/// <summary>
/// The two schedules of dVAE training in the DALL-E paper, as pure functions of the step so a resumed run continues
/// them exactly. The gumbel-softmax temperature starts high (soft, low-variance gradients over many codes) and is
/// annealed towards 1/16, where the relaxation is close to the one-hot codes the transformer will see; the KL weight
/// β starts at 0 so the encoder first learns to use the codebook at all, then rises so the code distribution stays
/// spread (a low β early is what keeps the codebook from collapsing).
/// </summary>
public static class DvaeSchedules
{
    /// <summary>
    /// The gumbel-softmax temperature at <paramref name="step"/>, annealed from <paramref name="start"/> to
    /// <paramref name="end"/> over <paramref name="steps"/>, then <paramref name="end"/>. <see cref="TemperatureShape.Cosine"/>
    /// is the paper's (appendix A.2: 1 → 1/16 over the first 150 000 updates, cosine like its KL weight and step size):
    /// <c>end + (start − end) · (1 + cos(π · step / steps)) / 2</c>, 0.53 at mid-way. <see cref="TemperatureShape.Exponential"/>,
    /// <c>start · (end / start)^(step / steps)</c>, is 1/4 at mid-way: the codes turn near one-hot sooner than with a cosine over
    /// the same steps, later than with one over a fraction of them; in the emoji recipe's 200-step probes it kept more of the
    /// codebook in use than a cosine over the first quarter did.
    /// </summary>
    public static double Temperature(long step, long steps, double start = 1.0, double end = 1.0 / 16, TemperatureShape shape = TemperatureShape.Cosine)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (start <= 0 || end <= 0) throw new ArgumentOutOfRangeException(nameof(start), "temperatures must be positive");
        if (steps <= 0 || step >= steps) return end;
        double progress = (double)step / steps;
        return shape switch
        {
            TemperatureShape.Cosine => end + (start - end) * 0.5 * (1 + Math.Cos(Math.PI * progress)),
            TemperatureShape.Exponential => start * Math.Pow(end / start, progress),
            _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, null),
        };
    }

    /// <summary>
    /// β rising from 0 to <paramref name="max"/> over <paramref name="steps"/> along a half cosine,
    /// <c>max · (1 − cos(π · step / steps)) / 2</c>, then <paramref name="max"/> (the paper: 0 → 6.6 over 5000 updates).
    /// </summary>
    public static double KlWeight(long step, long steps, double max)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (steps <= 0 || step >= steps) return max;
        return max * 0.5 * (1 - Math.Cos(Math.PI * step / steps));
    }
}
