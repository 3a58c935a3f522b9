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
    /// Write each residual sum and the LayerNorm after it as ONNX Runtime's com.microsoft <c>SkipLayerNormalization</c>
    /// (the layer's bias, the residual add and the normalisation in one pass over the rows, the sum handed on) instead of
    /// standard Add and LayerNormalization operators, which ONNX Runtime does not fuse in a pre-LayerNorm transformer.
    /// Off by default until its CPU time per run is measured against the standard operators
    /// (<c>bench … onnx-profile --variants standard,skipln</c>).
    /// </summary>
    public bool FusedResidualNorm { get; init; }

    /// <summary>
    /// The most images one ONNX Runtime run takes: a larger batch runs as consecutive chunks of this many rows of the
    /// same input and output tensors (nothing copied), each image's features computed from its own pixels either way.
    /// null takes <see cref="DefaultChunk"/>.
    /// </summary>
    public int? ImageChunk { get; init; }

    /// <summary>The most texts one ONNX Runtime run takes (see <see cref="ImageChunk"/>); when padding is trimmed, each
    /// chunk is trimmed after its own last end token, which can drop more columns than the batch-wide trim. null takes
    /// <see cref="DefaultChunk"/>.</summary>
    public int? TextChunk { get; init; }

    /// <summary>
    /// The chunk size a tower runs best at. ViT images: 8 — in the quiet run of <c>bench … onnx</c> at 00:12 UTC on
    /// 2026-12-07 (2-core AMD EPYC, load ≈ 1.9) ViT-B/32 ran 44.1 images/s at batch 8 and 38.8 at batch 32.
    /// ResNet images and texts: not measured beyond batch 8 / 64 yet (<c>bench … onnx-batches</c> measures every size),
    /// so a batch runs whole (<see cref="int.MaxValue"/>).
    /// </summary>
    public static int DefaultChunk(bool image, bool visionTransformer) => image && visionTransformer ? 8 : int.MaxValue;

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
