namespace SharpClip.Onnx;

/// <summary>How the ONNX engine's linear layers compute. Never int8 unless asked: it trades accuracy for speed.</summary>
public enum OnnxQuantization
{
    /// <summary>float32 weights and activations: the reference's numbers within float32 rounding.</summary>
    None,

    /// <summary>
    /// The transformers' linear layers (attention projections, MLPs) and the attention pool's projections as int8:
    /// weights quantized symmetric per output channel from the float32 weights when the graph is written, activations
    /// quantized to uint8 on every call from their own range (dynamic, no calibration). Attention scores, LayerNorm
    /// and the final projections stay float32. A ResNet's convolutions stay float32 too unless activation ranges are
    /// given (<see cref="OnnxEngineOptions.Calibration"/>): then they run in int8, their activations quantized with
    /// those fixed ranges. ONNX Runtime only (com.microsoft operators).
    /// </summary>
    DynamicInt8,
}
