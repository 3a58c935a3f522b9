using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion.UNet;

/// <summary>
/// The U-Net's sinusoidal timestep embedding (<c>timestep_embedding</c> of openaimodel's util): for
/// <c>half = dim / 2</c> frequencies <c>exp(-ln(10000) · i / half)</c>, the embedding is <c>[cos(t·f), sin(t·f)]</c>.
/// Cos comes first and the divisor is <c>half</c>, not <c>half - 1</c>: the autoencoder's sin-first variant is a
/// different function and gives a different (wrong) U-Net input.
/// </summary>
public static class TimestepEmbedding
{
    const double MaxPeriod = 10000.0;

    /// <param name="timesteps">[batch] DDPM timesteps (integer or float; fractional values are allowed).</param>
    /// <param name="dim">Embedding width (the U-Net's model_channels).</param>
    /// <returns>[batch, dim] float32 on the timesteps' device.</returns>
    public static Tensor Sinusoidal(Tensor timesteps, int dim)
    {
        if (timesteps.dim() != 1) throw new ArgumentException($"timesteps must be [batch]; got [{string.Join(",", timesteps.shape)}]", nameof(timesteps));
        using var scope = torch.NewDisposeScope();
        int half = dim / 2;
        using Scalar minusLogPeriod = -Math.Log(MaxPeriod), halfScalar = half;
        // The reference's float32 order of operations: (-ln(P) · arange) / half, then exp.
        var freqs = KeptScalars.Range(0, half, ScalarType.Float32, timesteps.device)
            .mul(minusLogPeriod).div(halfScalar).exp();                                  // [half]
        var args = timesteps.to(ScalarType.Float32).unsqueeze(1).mul(freqs.unsqueeze(0)); // [batch, half]
        var embedding = torch.cat([args.cos(), args.sin()], 1);                           // [batch, 2·half]
        if (dim % 2 == 1) embedding = torch.cat([embedding, torch.zeros_like(embedding.narrow(1, 0, 1))], 1);
        return embedding.MoveToOuterDisposeScope();
    }
}
