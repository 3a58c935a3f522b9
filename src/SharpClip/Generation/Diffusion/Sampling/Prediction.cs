namespace SharpClip.Generation.Diffusion.Sampling;

/// <summary>
/// What a diffusion model's output means. The weights do not say: a checkpoint's config does (ldm's
/// <c>parameterization</c>, diffusers' <c>prediction_type</c>), or the user (<c>--prediction</c>).
/// </summary>
public enum Prediction
{
    /// <summary>ε, the noise in x_t (SD 1.x, SD 2.x base 512): ldm's "eps", diffusers' "epsilon".</summary>
    Epsilon,
    /// <summary>
    /// v = √ᾱ·ε − √(1−ᾱ)·x₀ (Salimans &amp; Ho 2022; SD 2.x 768-v): ldm's "v", diffusers' "v_prediction". Every sampler
    /// turns it into ε = √ᾱ·v + √(1−ᾱ)·x_t and x̂₀ = √ᾱ·x_t − √(1−ᾱ)·v, as the reference does.
    /// </summary>
    V,
}

/// <summary>Names of <see cref="Prediction"/> in the spellings configs and users write.</summary>
public static class PredictionNames
{
    /// <summary>"eps"/"epsilon" or "v"/"v_prediction" (case-insensitive).</summary>
    /// <exception cref="InvalidDataException">another value; the message names <paramref name="source"/>.</exception>
    public static Prediction Parse(string? name, string source) => name?.Trim().ToLowerInvariant() switch
    {
        "eps" or "epsilon" => Prediction.Epsilon,
        "v" or "v_prediction" or "v-prediction" => Prediction.V,
        _ => throw new InvalidDataException($"{source}: prediction '{name}' is not supported (epsilon or v)"),
    };

    /// <summary>"epsilon" or "v".</summary>
    public static string Name(this Prediction prediction) => prediction == Prediction.V ? "v" : "epsilon";
}
