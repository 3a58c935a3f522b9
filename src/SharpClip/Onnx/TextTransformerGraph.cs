using Onnx;
using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Onnx;

/// <summary>
/// The ONNX form of <see cref="TextTransformer"/>: token and positional embeddings for however many positions the ids
/// have (a batch trimmed after its last end token runs fewer), causal blocks, and the projection of each row's first
/// end-of-text token (<c>argmax</c> of the ids, as the reference pools).
/// </summary>
internal static class TextTransformerGraph
{
    // ids: [batch, tokens] int64, tokens ≤ the context length
    // returns [batch, embed_dim], not normalised
    public static string Write(OnnxGraphBuilder g, TowerWeights w, ClipConfig config, string ids)
    {
        var tokens = TransformerGraph.Dim(g, ids, 1);                          // [1]: the number of positions
        var x = g.Gather(g.Weight("token_embedding.weight", w["token_embedding.weight"]), ids, 0); // [batch, tokens, width]
        var positions = g.Node("Slice", g.Weight("positional_embedding", w["positional_embedding"]),
            g.Int64s("start", 0), tokens, g.Int64s("axis", 0));               // [tokens, width]
        x = g.Add(x, positions);

        var mask = g.Node("Slice", CausalMask(g, config.ContextLength), g.Int64s("starts", 0, 0),
            g.Concat(0, tokens, tokens), g.Int64s("axes", 0, 1));              // [tokens, tokens]
        // Each row's first end-of-text token (argmax of the ids, as the reference pools): the row the last block computes.
        var eot = g.Node("ArgMax", [ids], [OnnxGraphBuilder.Int("axis", 1), OnnxGraphBuilder.Int("keepdims", 1)]); // [batch, 1]
        var eotRow = (string values) => g.Node("GatherND", [values, g.Reshape(eot, 0, 1, 1)], [OnnxGraphBuilder.Int("batch_dims", 1)]); // [batch, 1, width]
        var eotMask = g.Gather(mask, eot, 0);                                  // [batch, 1, tokens]
        var pooled = TransformerGraph.Stack(g, w, "transformer", x, config.TextLayers, config.TextHeads, config.Activation, mask, eotRow, eotMask); // [batch, width]

        // ln_final on the pooled rows only: the LayerNorm is per token, so the other rows' would never be read.
        pooled = TransformerGraph.LayerNorm(g, w, "ln_final", pooled);
        return g.MatMul(pooled, g.Weight("text_projection", w["text_projection"])); // [batch, embed_dim]
    }

    /// <summary>[context, context]: 0 where a position may attend (itself and earlier ones), −∞ after it.</summary>
    static string CausalMask(OnnxGraphBuilder g, int context)
    {
        var mask = new float[context * context];
        for (int i = 0; i < context; i++)
            for (int j = i + 1; j < context; j++) mask[i * context + j] = float.NegativeInfinity;
        return g.Floats("causal_mask", mask, context, context);
    }
}
