using Onnx;
using SharpClip.Modeling;

namespace SharpClip.Onnx;

/// <summary>
/// The ONNX form of <see cref="ModifiedResNet"/> with its <see cref="Bottleneck"/>s and <see cref="AttentionPool2d"/>,
/// written from the <c>visual.*</c> tensors. Convolution, eval-mode BatchNormalization (running statistics) and ReLU
/// are left separate: ONNX Runtime folds each BatchNorm into its convolution and fuses the ReLU itself. The channel
/// padding of <see cref="AlignedConv2d"/> works around a libtorch defect and has no place here.
/// </summary>
/// <remarks>
/// With <see cref="OnnxQuantization.DynamicInt8"/> the attention pool's query and output projections become int8 (its
/// keys and values are never projected: see <see cref="AttentionPool"/>); the convolutions become int8 too when
/// calibration ranges are given (<see cref="ConvolutionPrecision"/>: activations quantized at each ReLU, residual sum
/// and shortcut with their measured ranges), and stay float32 otherwise.
/// </remarks>
internal static class ModifiedResNetGraph
{
    // pixels: [batch, 3, resolution, resolution] float32, normalised
    // returns [batch, embed_dim]
    public static string Write(OnnxGraphBuilder g, TowerWeights w, ClipConfig config, string pixels, ConvolutionPrecision? convs = null)
    {
        convs ??= ConvolutionPrecision.Float32();
        var x = convs.At(g, "visual.bn1", g.Relu(ConvNorm(g, w, convs, "visual.conv1", "visual.bn1", pixels, stride: 2))); // [batch, width/2, r/2, r/2]
        x = convs.At(g, "visual.bn2", g.Relu(ConvNorm(g, w, convs, "visual.conv2", "visual.bn2", x)));
        x = convs.At(g, "visual.bn3", g.Relu(ConvNorm(g, w, convs, "visual.conv3", "visual.bn3", x)));  // [batch, width, r/2, r/2]
        x = AveragePool(g, convs, x, 2);                                                                // [batch, width, r/4, r/4]
        for (int stage = 1; stage <= 4; stage++)
            for (int i = 0; i < config.VisionLayers[stage - 1]; i++)
                x = Bottleneck(g, w, convs, $"visual.layer{stage}.{i}", x, stride: stage > 1 && i == 0 ? 2 : 1);
        return AttentionPool(g, w, "visual.attnpool", x, config.VisionHeads);   // [batch, embed_dim]
    }

    /// <summary>1×1, 3×3, 1×1 convolutions with an average pool before the last where the block strides; the shortcut
    /// pooled and projected where the shape changes.</summary>
    static string Bottleneck(OnnxGraphBuilder g, TowerWeights w, ConvolutionPrecision convs, string p, string x, int stride)
    {
        var residual = convs.At(g, $"{p}.bn1", g.Relu(ConvNorm(g, w, convs, $"{p}.conv1", $"{p}.bn1", x)));
        residual = convs.At(g, $"{p}.bn2", g.Relu(ConvNorm(g, w, convs, $"{p}.conv2", $"{p}.bn2", residual)));
        if (stride > 1) residual = AveragePool(g, convs, residual, stride);
        residual = convs.At(g, $"{p}.bn3", ConvNorm(g, w, convs, $"{p}.conv3", $"{p}.bn3", residual));
        var shortcut = x;
        if (w.Has($"{p}.downsample.0.weight"))
        {
            if (stride > 1) shortcut = AveragePool(g, convs, shortcut, stride);
            shortcut = convs.At(g, $"{p}.downsample", ConvNorm(g, w, convs, $"{p}.downsample.0", $"{p}.downsample.1", shortcut));
        }
        return convs.At(g, p, g.Relu(g.Add(residual, shortcut)));
    }

    /// <summary>A bias-free convolution (3×3 ones padded by 1, as the module builds them) and its BatchNorm in eval mode;
    /// int8 with the BatchNorm folded in where <paramref name="convs"/> holds its input quantized.</summary>
    static string ConvNorm(OnnxGraphBuilder g, TowerWeights w, ConvolutionPrecision convs, string conv, string norm, string x, int stride = 1)
    {
        var weight = w[$"{conv}.weight"];                                     // [out, in, k, k]
        long k = weight.shape[2], pad = k / 2;
        AttributeProto[] attributes = [OnnxGraphBuilder.Ints("kernel_shape", k, k), OnnxGraphBuilder.Ints("strides", stride, stride),
            OnnxGraphBuilder.Ints("pads", pad, pad, pad, pad)];
        if (convs.TryConvolution(g, conv, x, weight, w[$"{norm}.weight"], w[$"{norm}.bias"], w[$"{norm}.running_mean"],
                w[$"{norm}.running_var"], attributes) is { } int8)
            return int8;
        var y = g.Node("Conv", [x, g.Weight($"{conv}.weight", weight)], attributes);
        return g.Node("BatchNormalization",
            [y, g.Weight($"{norm}.weight", w[$"{norm}.weight"]), g.Weight($"{norm}.bias", w[$"{norm}.bias"]),
             g.Weight($"{norm}.running_mean", w[$"{norm}.running_mean"]), g.Weight($"{norm}.running_var", w[$"{norm}.running_var"])],
            [OnnxGraphBuilder.Float("epsilon", 1e-5f)]);
    }

    static string AveragePool(OnnxGraphBuilder g, ConvolutionPrecision convs, string x, long size) =>
        convs.Pooled(g, x, g.Node("AveragePool", [x], [OnnxGraphBuilder.Ints("kernel_shape", size, size), OnnxGraphBuilder.Ints("strides", size, size)]));

    /// <summary><see cref="AttentionPool2d"/>: the mean token, prepended and positioned, attends over all tokens. Only
    /// its one query is projected; the keys and values are never formed (<see cref="TransformerGraph.SingleQueryAttention"/>),
    /// which for RN50 saves the two 2048² projections of 50 tokens, a tenth of the tower's multiplies.</summary>
    // x: [batch, width, grid, grid]
    static string AttentionPool(OnnxGraphBuilder g, TowerWeights w, string p, string x, int heads)
    {
        var positions = w[$"{p}.positional_embedding"];                      // [grid²+1, width]
        long width = positions.shape[1];
        var tokens = g.Transpose(g.Reshape(x, 0, width, -1), 0, 2, 1);       // [batch, grid², width]
        var mean = g.Node("ReduceMean", [tokens], [OnnxGraphBuilder.Ints("axes", 1), OnnxGraphBuilder.Int("keepdims", 1)]);
        tokens = g.Add(g.Concat(1, mean, tokens), g.Weight($"{p}.positional_embedding", positions)); // [batch, grid²+1, width]
        var first = g.Node("Slice", tokens, g.Int64s("start", 0), g.Int64s("end", 1), g.Int64s("axis", 1)); // [batch, 1, width]
        _ = w[$"{p}.k_proj.bias"]; // shifts every score of a head by the same amount: softmax does not see it
        var pooled = TransformerGraph.SingleQueryAttention(g, $"{p}.attn", first, tokens, w[$"{p}.q_proj.weight"], w[$"{p}.q_proj.bias"],
            w[$"{p}.k_proj.weight"], w[$"{p}.v_proj.weight"], w[$"{p}.v_proj.bias"], heads, mask: null); // [batch, 1, width]
        pooled = TransformerGraph.Linear(g, w, $"{p}.c_proj", pooled);                                // [batch, 1, embed_dim]
        return g.Reshape(pooled, 0, -1);                                                              // [batch, embed_dim]
    }
}
