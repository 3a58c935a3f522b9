namespace SharpClip.Generation.Dalle.Training;

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
    /// Cosine annealing from <paramref name="start"/> to <paramref name="end"/> over <paramref name="steps"/>:
    /// <c>end + (start − end) · (1 + cos(π · step / steps)) / 2</c>, then <paramref name="end"/> (the paper, appendix A.2: 1 →
    /// 1/16 over the first 150 000 updates with a cosine schedule, as its KL weight and step size). Against the
    /// exponential decay used before, the cosine keeps τ near 1 for longer — soft codes whose gradient reaches every
    /// code while the encoder first spreads over the codebook — and at mid-run is (1 + 1/16) / 2 ≈ 0.53, not 1/4.
    /// </summary>
    public static double Temperature(long step, long steps, double start = 1.0, double end = 1.0 / 16)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (start <= 0 || end <= 0) throw new ArgumentOutOfRangeException(nameof(start), "temperatures must be positive");
        if (steps <= 0 || step >= steps) return end;
        return end + (start - end) * 0.5 * (1 + Math.Cos(Math.PI * step / steps));
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
