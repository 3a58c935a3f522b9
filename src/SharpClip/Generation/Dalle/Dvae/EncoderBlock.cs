namespace SharpClip.Generation.Dalle.Dvae;

/// <summary><c>dall_e.encoder.EncoderBlock</c>: res_path convolutions 3×3, 3×3, 3×3, 1×1.</summary>
public sealed class EncoderBlock(int inChannels, int outChannels, int layerCount)
    : ResidualBlock(nameof(EncoderBlock), inChannels, outChannels, layerCount, [3, 3, 3, 1]);
