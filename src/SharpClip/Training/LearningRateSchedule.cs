namespace SharpClip.Training;

/// <summary>
/// CLIP's learning-rate schedule: a linear warm-up from almost zero, then a half-cosine decay to a floor. Warm-up
/// keeps the first AdamW steps (whose second-moment estimates are still poor) from wrecking a randomly initialised
/// transformer; the cosine spends most steps at a high rate and anneals smoothly at the end. A pure function of the
/// step, so a resumed run continues the schedule exactly.
/// </summary>
public static class LearningRateSchedule
{
    /// <summary>The learning rate to use for optimizer step <paramref name="step"/> (0-based).</summary>
    /// <param name="step">Steps already taken, 0 ≤ step.</param>
    /// <param name="totalSteps">Steps in the whole run.</param>
    /// <param name="warmupSteps">Steps of linear warm-up: <c>peak · (step + 1) / warmupSteps</c>, as open_clip.</param>
    /// <param name="peak">The rate reached at the end of warm-up.</param>
    /// <param name="floor">The rate the cosine ends at (0 in CLIP).</param>
    /// <returns>The rate; <paramref name="floor"/> for steps at or past the end.</returns>
    public static double WarmupCosine(long step, long totalSteps, long warmupSteps, double peak, double floor = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalSteps);
        if (step < warmupSteps) return peak * (step + 1) / warmupSteps;
        long decaySteps = totalSteps - warmupSteps;
        if (decaySteps <= 0 || step >= totalSteps) return floor;
        double progress = (double)(step - warmupSteps) / decaySteps;   // 0 → 1 over the decay
        return floor + 0.5 * (1 + Math.Cos(Math.PI * progress)) * (peak - floor);
    }
}
