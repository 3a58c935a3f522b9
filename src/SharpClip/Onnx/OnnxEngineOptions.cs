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
    /// The chunk size a tower runs best at, from <c>bench … onnx-batches</c> (2-core AMD EPYC, quiet, load ≈ 2,
    /// 2026-12-07 05:10 UTC; items/s at batch 1/2/4/8/16/32/64, one ONNX Runtime run each):
    /// ViT-B/32 images 30.9/38.2/39.1/<b>42.4</b>/41.4/40.1/39.2 — 8;
    /// texts of all 77 positions 46.4/52.4/58.3/59.1/<b>58.4</b>/55.1/51.9 and captions of ≤ 16 tokens (trimmed)
    /// 130/186/228/259/<b>290</b>/293/300 — 16, 12 % faster than a whole batch of 64 at full length and 3 % slower
    /// trimmed (where each chunk also trims after its own longest caption);
    /// RN50 images 33.2/35.3/35.0/35.6/36.3/36.2/36.8 — flat from 2 on, so a batch runs whole (<see cref="int.MaxValue"/>).
    /// </summary>
    public static int DefaultChunk(bool image, bool visionTransformer) => image ? (visionTransformer ? 8 : int.MaxValue) : 16;

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
