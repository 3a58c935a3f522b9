namespace SharpClip.Generation.Dalle.Dvae;

/// <summary><c>dall_e.decoder.DecoderBlock</c>: res_path convolutions 1×1, 3×3, 3×3, 3×3.</summary>
public sealed class DecoderBlock(int inChannels, int outChannels, int layerCount)
    : ResidualBlock(nameof(DecoderBlock), inChannels, outChannels, layerCount, [1, 3, 3, 3]);
