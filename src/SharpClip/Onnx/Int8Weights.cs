using SharpClip.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Onnx;

/// <summary>
/// A float32 weight as symmetric int8 per output channel: a matrix per output column, <c>W[i, j] ≈ values[i, j] · scales[j]</c>
/// with <c>scales[j] = max_i |W[i, j]| / limit</c>, or a convolution kernel per output channel (its first axis), and no
/// zero point. Per channel because CLIP's output channels differ in range by an order of magnitude (one scale per tensor
/// loses the small ones); symmetric because the weights are centred on zero and a zero point would cost the kernel a
/// correction term for nothing.
/// </summary>
/// <param name="Values">int8, row-major, in <paramref name="Shape"/>: [in, out] for a matrix that multiplies activations
/// from the right, [out, in, kh, kw] for a convolution kernel.</param>
/// <param name="Scales">[out] float32.</param>
/// <param name="Shape">[in, out] or [out, in, kh, kw].</param>
internal sealed record Int8Weights(sbyte[] Values, float[] Scales, long[] Shape)
{
    /// <summary>
    /// The largest level a weight may take. 127 where the CPU has an int8 dot-product instruction (VNNI: uint8 × int8
    /// summed in int32); 63 otherwise, because the AVX2/AVX-512BW kernels add pairs of uint8 × int8 products in int16,
    /// and 2 · 255 · 127 overflows it (ONNX Runtime's own quantizer calls this <c>reduce_range</c>).
    /// </summary>
    public static int Limit(bool int8DotProduct) => int8DotProduct ? 127 : 63;

    /// <summary>The limit on this machine's CPU: what the int8 graph is written with, and what an index's fingerprint
    /// names, so embeddings from the two ranges are never mixed.</summary>
    public static int LimitOnThisCpu => Limit(CpuFeatures.Current.HasInt8DotProduct);

    /// <summary>Quantizes <paramref name="weight"/> ([in, out], any float dtype and device) per output column.</summary>
    public static Int8Weights PerOutputColumn(Tensor weight, int limit)
    {
        if (weight.dim() != 2) throw new ArgumentException($"expected a matrix, got [{string.Join(",", weight.shape)}]", nameof(weight));
        using var scope = torch.NewDisposeScope();
        var w = weight.detach().to(ScalarType.Float32, CPU);                       // [in, out]
        using Scalar top = limit, bottom = -limit, zero = 0;   // held for the ops (Modeling/KeptScalars)
        var scales = w.abs().amax([0]).div(top);                                 // [out]
        scales = torch.where(scales.gt(zero), scales, torch.ones_like(scales));         // an all-zero column stays zero
        var values = w.div(scales).round().clamp(bottom, top).to(ScalarType.Int8).contiguous();
        return new Int8Weights(values.data<sbyte>().ToArray(), scales.contiguous().data<float>().ToArray(), w.shape);
    }

    /// <summary>Quantizes a convolution kernel <paramref name="weight"/> ([out, in, kh, kw], any float dtype and device)
    /// per output channel, the layout and per-axis scales ONNX's <c>DequantizeLinear(axis 0)</c> takes.</summary>
    public static Int8Weights PerOutputChannel(Tensor weight, int limit)
    {
        if (weight.dim() < 2) throw new ArgumentException($"expected a kernel [out, in, ...], got [{string.Join(",", weight.shape)}]", nameof(weight));
        using var scope = torch.NewDisposeScope();
        var w = weight.detach().to(ScalarType.Float32, CPU);
        var rows = w.reshape(w.shape[0], -1);                                      // [out, in·kh·kw]
        using Scalar top = limit, bottom = -limit, zero = 0;                        // held for the ops (Modeling/KeptScalars)
        var scales = rows.abs().amax([1]).div(top);                              // [out]
        scales = torch.where(scales > zero, scales, torch.ones_like(scales));      // an all-zero channel stays zero
        var values = rows.div(scales.unsqueeze(1)).round().clamp(bottom, top).to(ScalarType.Int8).contiguous();
        return new Int8Weights(values.data<sbyte>().ToArray(), scales.contiguous().data<float>().ToArray(), w.shape);
    }
}
