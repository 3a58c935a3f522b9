namespace SharpClip.Onnx;

/// <summary>How ONNX Runtime sessions for a model are made.</summary>
public sealed record OnnxEngineOptions
{
    /// <summary>Intra-op threads; null takes libtorch's thread count, so both engines use the same cores.</summary>
    public int? IntraOpThreads { get; init; }

    /// <summary>
    /// Whether idle worker threads spin waiting for work (<c>session.intra_op.allow_spinning</c>). Spinning buys a little
    /// on an idle machine and costs much when another process wants the same cores; see <see cref="OnnxClipEncoder"/>
    /// for the measurement behind the default.
    /// </summary>
    public bool AllowSpinning { get; init; }

    /// <summary>
    /// Run the transformers' attention as ONNX Runtime's fused com.microsoft <c>Attention</c> operator instead of the
    /// standard operators an exported file uses (see <see cref="OnnxClipEncoder"/> for which measured faster).
    /// </summary>
    public bool FusedAttention { get; init; }
}
