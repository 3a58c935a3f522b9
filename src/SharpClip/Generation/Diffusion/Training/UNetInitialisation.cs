using SharpClip.Generation.Diffusion.UNet;
using TorchSharp;

namespace SharpClip.Generation.Diffusion.Training;

/// <summary>
/// openaimodel's <c>zero_module</c> for a U-Net trained from scratch: the last convolution of every ResBlock
/// (<c>out_layers.3</c>), every spatial transformer's <c>proj_out</c> and the output convolution (<c>out.2</c>) start at
/// zero, so each residual branch starts as the identity and the first prediction is 0 — training begins from a
/// stable network instead of a random sum of many branches. (Loading weights overwrites them, so inference never
/// needs this.)
/// </summary>
public static class UNetInitialisation
{
    public static void ZeroResidualOutputs(UNetModel unet)
    {
        using var _ = torch.no_grad();
        foreach (var (name, p) in unet.named_parameters())
            if (name.StartsWith("out.2.", StringComparison.Ordinal) || name.Contains(".out_layers.3.", StringComparison.Ordinal)
                || name.Contains(".proj_out.", StringComparison.Ordinal))
                p.zero_();
    }
}
