using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.Sampling;

/// <summary>
/// The DDPM noise schedule a latent diffusion model was trained with: how much signal survives at each of the
/// training timesteps, <c>ᾱ_t = Π(1 - β_s)</c>. SD uses the "linear" schedule of LDM, which is linear in √β:
/// <c>β = linspace(√start, √end, T)²</c>, computed in float64 and stored as float32 buffers.
/// </summary>
public sealed class NoiseSchedule
{
    /// <summary>SD v1/v2's values (v1-inference.yaml: linear_start 0.00085, linear_end 0.012, 1000 timesteps).</summary>
    public static NoiseSchedule StableDiffusion { get; } = Linear(0.00085, 0.012, 1000);

    NoiseSchedule(double[] betas64, double[] alphasCumprod64, float[] alphasCumprod)
    {
        Betas64 = betas64;
        AlphasCumprod64 = alphasCumprod64;
        AlphasCumprod = alphasCumprod;
    }

    /// <summary>Number of training timesteps T.</summary>
    public int Timesteps => AlphasCumprod.Count;

    /// <summary>β_t in float64 (empty for a schedule read from a checkpoint's float32 buffer).</summary>
    public IReadOnlyList<double> Betas64 { get; }

    /// <summary>ᾱ_t in float64 as the reference computes it (empty for a schedule read from a checkpoint).</summary>
    public IReadOnlyList<double> AlphasCumprod64 { get; }

    /// <summary>ᾱ_t as the float32 buffer the sampler reads (what the checkpoint stores as <c>alphas_cumprod</c>).</summary>
    public IReadOnlyList<float> AlphasCumprod { get; }

    /// <summary>
    /// √ᾱ_t as the float32 buffer <c>sqrt_alphas_cumprod</c> (the square root taken in float64, as ldm's
    /// <c>register_schedule</c>); what a v-prediction model's output is converted with.
    /// </summary>
    public float[] SqrtAlphasCumprod => AlphasCumprod64.Count > 0
        ? [.. AlphasCumprod64.Select(a => (float)Math.Sqrt(a))]
        : [.. AlphasCumprod.Select(a => (float)Math.Sqrt(a))];

    /// <summary>√(1 − ᾱ_t) as the float32 buffer <c>sqrt_one_minus_alphas_cumprod</c> (float64 arithmetic, as ldm's).</summary>
    public float[] SqrtOneMinusAlphasCumprod => AlphasCumprod64.Count > 0
        ? [.. AlphasCumprod64.Select(a => (float)Math.Sqrt(1 - a))]
        : [.. AlphasCumprod.Select(a => (float)Math.Sqrt(1 - (double)a))];

    /// <summary>β_t as float32 (the registered <c>betas</c> buffer); needs the float64 schedule.</summary>
    public float[] Betas => [.. Betas64.Select(b => (float)b)];

    /// <summary>ᾱ_{t-1} as float32, with ᾱ_{-1} = 1 (the registered <c>alphas_cumprod_prev</c>).</summary>
    public float[] AlphasCumprodPrev => AlphasCumprod64.Count > 0
        ? [1f, .. AlphasCumprod64.Take(Timesteps - 1).Select(a => (float)a)]
        : [1f, .. AlphasCumprod.Take(Timesteps - 1)];

    /// <summary>LDM's <c>make_beta_schedule('linear', T, start, end)</c> and its cumulative product, in float64.</summary>
    public static NoiseSchedule Linear(double linearStart, double linearEnd, int timesteps)
    {
        if (timesteps < 2) throw new ArgumentOutOfRangeException(nameof(timesteps), timesteps, "a schedule needs at least 2 timesteps");
        if (!(linearStart > 0 && linearEnd > linearStart && linearEnd < 1))
            throw new ArgumentException($"need 0 < linear_start ({linearStart}) < linear_end ({linearEnd}) < 1");
        using var scope = torch.NewDisposeScope();
        // torch's own float64 linspace, so the values are the reference's to the last bit.
        var betas = torch.linspace(Math.Sqrt(linearStart), Math.Sqrt(linearEnd), timesteps, dtype: ScalarType.Float64).Squared();
        var alphasCumprod = torch.ones_like(betas).sub(betas).cumprod(0);
        return new NoiseSchedule(betas.data<double>().ToArray(), alphasCumprod.data<double>().ToArray(),
            [.. alphasCumprod.data<double>().Select(a => (float)a)]);
    }

    /// <summary>A schedule given by its float32 ᾱ buffer (a checkpoint's <c>alphas_cumprod</c>).</summary>
    public static NoiseSchedule FromAlphasCumprod(IReadOnlyList<float> alphasCumprod)
    {
        if (alphasCumprod.Count < 2 || alphasCumprod.Any(a => !(a > 0 && a < 1)))
            throw new ArgumentException("alphas_cumprod must hold at least 2 values in (0, 1)");
        return new NoiseSchedule([], [], [.. alphasCumprod]);
    }
}
