using Onnx;
using SharpClip.Modeling;
using static TorchSharp.torch;

namespace SharpClip.Onnx;

/// <summary>The ONNX form of <see cref="VisionTransformer"/>, written from the <c>visual.*</c> tensors.</summary>
internal static class VisionTransformerGraph
{
    // pixels: [batch, 3, resolution, resolution] float32, normalised
    // returns [batch, embed_dim], not normalised (as <see cref="ClipModel.EncodeImages"/>)
    public static string Write(OnnxGraphBuilder g, TowerWeights w, ClipConfig config, string pixels)
    {
        int patch = config.VisionPatchSize!.Value, width = config.VisionWidth;
        var x = g.Node("Conv", [pixels, g.Weight("visual.conv1.weight", w["visual.conv1.weight"])],
            [OnnxGraphBuilder.Ints("kernel_shape", patch, patch), OnnxGraphBuilder.Ints("strides", patch, patch)]); // [batch, width, grid, grid]
        x = g.Transpose(g.Reshape(x, 0, width, -1), 0, 2, 1);                   // [batch, grid², width]

        // cat([class_embedding, x]) + positional_embedding, written as two sums: the class token plus its position is
        // the same float32 add the module makes, done once here instead of once per image.
        var positions = w["visual.positional_embedding"];                       // [grid²+1, width]
        using (var patchPositions = positions.narrow(0, 1, positions.shape[0] - 1).unsqueeze(0))
            x = g.Add(x, g.Weight("visual.positional_embedding[1:]", patchPositions));
        using var classToken = w["visual.class_embedding"].detach().Plus(positions[0]).view(1, 1, width);
        var batch = TransformerGraph.Dim(g, pixels, 0);
        var cls = g.Node("Expand", g.Weight("visual.class_embedding+positional_embedding[0]", classToken),
            g.Concat(0, batch, g.Int64s("one_by_width", 1, width)));              // [batch, 1, width]
        x = g.Concat(1, cls, x);                                               // [batch, grid²+1, width]

        x = TransformerGraph.LayerNorm(g, w, "visual.ln_pre", x);
        var classRow = (string tokens) => g.Node("Slice", tokens, g.Int64s("start", 0), g.Int64s("end", 1), g.Int64s("axis", 1)); // [batch, 1, width]
        x = TransformerGraph.Stack(g, w, "visual.transformer", x, config.VisionLayers[0], config.VisionHeads, config.Activation,
            mask: null, classRow, rowMask: null);                               // [batch, width]: the class token
        x = TransformerGraph.LayerNorm(g, w, "visual.ln_post", x);
        return g.MatMul(x, g.Weight("visual.proj", w["visual.proj"]));          // [batch, embed_dim]
    }
}
