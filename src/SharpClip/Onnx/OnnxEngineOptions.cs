namespace SharpClip.Onnx;

/// <summary>How ONNX Runtime sessions for a model are made.</summary>
public sealed record OnnxEngineOptions
{
    /// <summary>Intra-op threads; null takes libtorch's thread count, so both engines use the same cores.</summary>
    public int? IntraOpThreads { get; init; }

    /// <summary>
    /// Whether idle worker threads spin waiting for work (<c>session.intra_op.allow_spinning</c>). Off by default: on
    /// this project's 2-core machines with other processes busy (load 10-15), ViT-B/32 images ran 1.4-1.8× libtorch's
    /// speed with spinning and 1.9-2.8× without, measured back to back (<c>bench onnx --spinning on|off</c>).
    /// </summary>
    public bool AllowSpinning { get; init; }

    /// <summary>
    /// Run the transformers' attention as ONNX Runtime's fused com.microsoft <c>Attention</c> operator instead of the
    /// standard operators an exported file uses. Same features (fixture parity); on the loaded machines it was measured on
    /// it showed no clear gain over the standard graph, so it is off by default (<c>bench onnx --attention fused</c>).
    /// </summary>
    public bool FusedAttention { get; init; }

    /// <summary>
    /// float32 (the default: the reference's numbers) or int8 linear layers (<see cref="OnnxQuantization.DynamicInt8"/>):
    /// faster where the CPU has int8 dot products, at a measured accuracy cost. Only when the user asks.
    /// </summary>
    public OnnxQuantization Quantization { get; init; }

    /// <summary>
    /// With <see cref="OnnxQuantization.DynamicInt8"/>, a ResNet image tower's activation ranges
    /// (<see cref="ActivationRanges.Measure"/> on images like the ones to be encoded): its convolutions then run in int8
    /// too. Null leaves them float32, because an int8 convolution needs its output's range before it runs.
    /// </summary>
    public ActivationRanges? Calibration { get; init; }
}
