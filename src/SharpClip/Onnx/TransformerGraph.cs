using Onnx;
using SharpClip.Modeling;
using static TorchSharp.torch;

namespace SharpClip.Onnx;

/// <summary>
/// The ONNX form of <see cref="TransformerStack"/>, shared by both towers: one pre-LayerNorm
/// <see cref="ResidualAttentionBlock"/> per <c>resblocks.N</c>, written from the same keys the modules load.
/// </summary>
/// <remarks>
/// Written in the patterns ONNX Runtime's optimizer fuses: <c>LayerNormalization</c> as one operator, each linear
/// layer as MatMul by a pre-transposed weight + Add, QuickGELU as <c>x·sigmoid(1.702x)</c> (fused into QuickGelu) and
/// GELU as <c>0.5·x·(1+erf(x/√2))</c> (fused into Gelu). The blocks keep the tokens as the rows of one matrix
/// [batch·tokens, width]: ONNX Runtime folds a bias Add into its MatMul (a Gemm) only when the input is 2-D or of fixed
/// shape, and batch and tokens are dynamic here. Each residual sum is written with the LayerNorm that reads it
/// (<see cref="OnnxGraphBuilder.ResidualNorm"/>), one fused operator where the graph may use ONNX Runtime's own.
/// Attention is written out: <c>softmax(q·kᵀ/√d + mask)·v</c> per head. Both towers read one row of the last block
/// (class token, end-of-text token), so that block is written for that row alone (<see cref="Stack"/>): ONNX Runtime's
/// profile of ViT-B/32 puts 85 % of the time in MatMul, near the CPU's float32 peak, so work not done is what is left to win.
/// </remarks>
internal static class TransformerGraph
{
    /// <summary>The dynamic shapes that turn the blocks' [batch·tokens, …] rows back into [batch, tokens, …].</summary>
    // Rows3: [-1, tokens, width]; Qkv: [-1, tokens, 3, heads, head_width] (int64 shapes for Reshape)
    sealed record Layout(string Rows3, string Qkv);

    /// <summary>
    /// Every block of <paramref name="prefix"/><c>.resblocks.*</c> in order, the last one only for the row the tower
    /// pools (<paramref name="row"/>): nothing else of the last block's output is read, and each of its rows depends on
    /// the other tokens only through attention's keys and values, so the other rows' queries, output projections and
    /// MLPs are skipped (for ViT-B/32 one twelfth of the work, with the same numbers for the row that is kept).
    /// </summary>
    // x: [batch, tokens, width]
    // mask: An additive [tokens, tokens] mask (causal text tower), or null.
    // row: Picks the pooled row: [batch, tokens, width] → [batch, 1, width].
    // rowMask: The pooled row's [batch, 1, tokens] of the mask, or null.
    // returns [batch, width]
    public static string Stack(OnnxGraphBuilder g, TowerWeights w, string prefix, string x, int layers, int heads, Activation activation,
        string? mask, Func<string, string> row, string? rowMask)
    {
        if (layers < 1) throw new NotSupportedException($"the ONNX writer needs at least one block under {prefix}");
        long width = w[$"{prefix}.resblocks.0.attn.in_proj_weight"].shape[1], headWidth = width / heads;
        var tokens = Dim(g, x, 1);
        var anyBatch = g.Int64s("any_batch", -1);
        var layout = new Layout(g.Concat(0, anyBatch, tokens, g.Int64s("width", width)),
            g.Concat(0, anyBatch, tokens, g.Int64s("qkv_heads", 3, heads, headWidth)));

        var residual = g.Reshape(x, -1, width);                                 // [batch·tokens, width]
        var normed = LayerNorm(g, w, $"{prefix}.resblocks.0.ln_1", residual);
        for (int i = 0; i < layers - 1; i++)
            (normed, residual) = Block(g, w, $"{prefix}.resblocks.{i}", residual, normed, layout, heads, activation, mask, $"{prefix}.resblocks.{i + 1}.ln_1");
        return PooledBlock(g, w, $"{prefix}.resblocks.{layers - 1}", g.Node("Reshape", residual, layout.Rows3), g.Node("Reshape", normed, layout.Rows3),
            heads, activation, row, rowMask);
    }

    /// <summary>
    /// <c>x + attn(ln_1(x))</c>, then <c>+ mlp(ln_2(·))</c>, given <c>ln_1(x)</c>; returns the block's output and the
    /// next block's <c>ln_1</c> of it (<paramref name="nextNorm"/>), each LayerNorm written with the residual sum it reads.
    /// </summary>
    // residual, normed: [batch·tokens, width]
    static (string Normed, string Residual) Block(OnnxGraphBuilder g, TowerWeights w, string p, string residual, string normed, Layout layout,
        int heads, Activation activation, string? mask, string nextNorm)
    {
        var attended = Attention(g, w, $"{p}.attn", normed, layout, heads, mask);  // [batch·tokens, width], heads merged
        (normed, residual) = Residual(g, w, residual, attended, $"{p}.attn.out_proj", $"{p}.ln_2");
        return Residual(g, w, residual, Activate(g, Linear(g, w, $"{p}.mlp.c_fc", normed), activation), $"{p}.mlp.c_proj", nextNorm);
    }

    /// <summary><c>sum = residual + linear(x)</c> and <c>norm(sum)</c>: the linear layer's bias goes into the fused sum.</summary>
    static (string Normed, string Sum) Residual(OnnxGraphBuilder g, TowerWeights w, string residual, string x, string linear, string norm)
    {
        var delta = g.Linear(x, linear, w[$"{linear}.weight"], null);
        return g.ResidualNorm(residual, delta, $"{linear}.bias", w[$"{linear}.bias"], norm, w[$"{norm}.weight"], w[$"{norm}.bias"]);
    }

    /// <summary>A block for one row: <c>y = x[row] + attn(ln_1(x)[row] over ln_1(x))</c>, then <c>y + mlp(ln_2(y))</c>.</summary>
    // x, normed: [batch, tokens, width], the block's input and its ln_1
    // returns [batch, width]
    static string PooledBlock(OnnxGraphBuilder g, TowerWeights w, string p, string x, string normed, int heads, Activation activation,
        Func<string, string> row, string? rowMask)
    {
        var inProj = w[$"{p}.attn.in_proj_weight"];                             // [3·width, width]: Q | K | V
        var inBias = w[$"{p}.attn.in_proj_bias"];
        long width = inProj.shape[1];
        using var q = inProj.narrow(0, 0, width);
        using var k = inProj.narrow(0, width, width);
        using var v = inProj.narrow(0, 2 * width, width);
        using var qBias = inBias.narrow(0, 0, width);
        using var vBias = inBias.narrow(0, 2 * width, width);
        // The key bias adds q·b_k to every score of a head: softmax does not change under a constant shift.
        var attended = SingleQueryAttention(g, $"{p}.attn", row(normed), normed, q, qBias, k, v, vBias, heads, rowMask); // [batch, 1, width]
        var (normedRow, y) = Residual(g, w, g.Reshape(row(x), -1, width), g.Reshape(attended, -1, width), $"{p}.attn.out_proj", $"{p}.ln_2"); // [batch, width]
        return g.Add(y, Linear(g, w, $"{p}.mlp.c_proj", Activate(g, Linear(g, w, $"{p}.mlp.c_fc", normedRow), activation)));
    }

    /// <summary>
    /// Multi-head attention of one query row over all tokens, computed without projecting the tokens: per head,
    /// <c>q_h·k_jᵀ = (q_h·W_k,h)·x_jᵀ + q_h·b_k,h</c>, whose last term is the same for every token (softmax ignores it),
    /// and <c>Σ_j p_j·(x_j·W_v,hᵀ + b_v,h) = (Σ_j p_j·x_j)·W_v,hᵀ + b_v,h</c> because the probabilities sum to one. Keys and
    /// values of every token cost tokens × 2·width² multiplies; this costs 4·width·tokens, the same sums associated
    /// differently (float32 rounding apart).
    /// </summary>
    // query: [batch, 1, in_width]
    // tokens: [batch, tokens, in_width]
    // qWeight, kWeight, vWeight: [width, in_width] (nn.Linear's layout); qBias, vBias: [width]
    // mask: [batch, 1, tokens] additive, or null
    // returns [batch, 1, width], heads merged, before the output projection
    public static string SingleQueryAttention(OnnxGraphBuilder g, string name, string query, string tokens,
        Tensor qWeight, Tensor qBias, Tensor kWeight, Tensor vWeight, Tensor vBias, int heads, string? mask)
    {
        long width = qWeight.shape[0], inWidth = qWeight.shape[1], headWidth = width / heads;
        var q = g.Linear(query, $"{name}.q", qWeight, qBias);                   // [batch, 1, width]
        q = g.Mul(q, g.Scalar("scale", (float)(1.0 / Math.Sqrt(headWidth))));
        q = g.Reshape(q, 0, heads, 1, headWidth);                               // [batch, heads, 1, head_width]
        using var kHeads = kWeight.view(heads, headWidth, inWidth);
        var queryInTokens = g.MatMul(q, g.Weight($"{name}.k.weight.heads", kHeads)); // [batch, heads, 1, in_width]
        var x = g.Node("Unsqueeze", tokens, g.Int64s("axes", 1));               // [batch, 1, tokens, in_width]
        var scores = g.MatMul(queryInTokens, g.Transpose(x, 0, 1, 3, 2));      // [batch, heads, 1, tokens]
        if (mask is not null) scores = g.Add(scores, g.Node("Unsqueeze", mask, g.Int64s("axes", 1)));
        var mixed = g.MatMul(g.Softmax(scores), x);                             // [batch, heads, 1, in_width]
        using var vHeads = vWeight.view(heads, headWidth, inWidth).transpose(1, 2);
        using var vBiasHeads = vBias.view(heads, 1, headWidth);
        var values = g.Add(g.MatMul(mixed, g.Weight($"{name}.v.weight.heads.T", vHeads)), g.Weight($"{name}.v.bias.heads", vBiasHeads)); // [batch, heads, 1, head_width]
        return g.Reshape(values, 0, 1, width);                                  // [batch, 1, width]
    }

    /// <summary>A LayerNorm module's <c>weight</c>/<c>bias</c> under <paramref name="key"/>.</summary>
    public static string LayerNorm(OnnxGraphBuilder g, TowerWeights w, string key, string x) =>
        g.LayerNorm(x, key, w[$"{key}.weight"], w[$"{key}.bias"]);

    /// <summary>A Linear module's <c>weight</c>/<c>bias</c> under <paramref name="key"/>.</summary>
    public static string Linear(OnnxGraphBuilder g, TowerWeights w, string key, string x) =>
        g.Linear(x, key, w[$"{key}.weight"], w.Has($"{key}.bias") ? w[$"{key}.bias"] : null);

    /// <summary><see cref="SelfAttention"/> up to its output projection: packed QKV projection, per-head scaled
    /// dot-product attention, heads merged.</summary>
    // x: [batch·tokens, width]
    // returns [batch·tokens, width]
    static string Attention(OnnxGraphBuilder g, TowerWeights w, string p, string x, Layout layout, int heads, string? mask)
    {
        var inProj = w[$"{p}.in_proj_weight"];
        long width = inProj.shape[1], headWidth = width / heads;
        if (g.ContribAttention)
        {
            // ONNX Runtime's com.microsoft Attention: the packed projection ([width, 3·width], Q|K|V as in_proj packs
            // them), per-head softmax attention (causal when unidirectional) in one kernel.
            using var packed = inProj.detach().t();
            var fused = g.Node("Attention", [g.Node("Reshape", x, layout.Rows3), g.Weight($"{p}.in_proj_weight.T", packed), g.Weight($"{p}.in_proj_bias", w[$"{p}.in_proj_bias"])],
                [OnnxGraphBuilder.Int("num_heads", heads), OnnxGraphBuilder.Int("unidirectional", mask is null ? 0 : 1)], domain: "com.microsoft");
            return g.Reshape(fused, -1, width);
        }
        var qkv = g.Linear(x, $"{p}.in_proj", inProj, w[$"{p}.in_proj_bias"]);  // [batch·tokens, 3·width]
        qkv = g.Node("Reshape", qkv, layout.Qkv);                               // [batch, tokens, 3, heads, head_width]
        qkv = g.Transpose(qkv, 2, 0, 3, 1, 4);                                  // [3, batch, heads, tokens, head_width]
        var q = g.Gather(qkv, g.Int64Scalar("q", 0), 0);                        // [batch, heads, tokens, head_width]
        var k = g.Gather(qkv, g.Int64Scalar("k", 1), 0);
        var v = g.Gather(qkv, g.Int64Scalar("v", 2), 0);
        var attended = ScaledDotProduct(g, q, k, v, headWidth, mask);           // [batch, heads, tokens, head_width]
        return g.Reshape(g.Transpose(attended, 0, 2, 1, 3), -1, width);         // [batch·tokens, width]
    }

    /// <summary><c>softmax(q·kᵀ/√d + mask)·v</c>, as libtorch's <c>scaled_dot_product_attention</c>.</summary>
    // q: [batch, heads, queries, head_width]
    // k: [batch, heads, keys, head_width]
    // v: [batch, heads, keys, head_width]
    // returns [batch, heads, queries, head_width]
    public static string ScaledDotProduct(OnnxGraphBuilder g, string q, string k, string v, long headWidth, string? mask)
    {
        var scaled = g.Mul(q, g.Scalar("scale", (float)(1.0 / Math.Sqrt(headWidth))));
        var scores = g.MatMul(scaled, g.Transpose(k, 0, 1, 3, 2));              // [batch, heads, queries, keys]
        if (mask is not null) scores = g.Add(scores, mask);
        return g.MatMul(g.Softmax(scores), v);
    }

    static string Activate(OnnxGraphBuilder g, string x, Activation activation) => activation switch
    {
        // QuickGELU: x·sigmoid(1.702·x)
        Activation.QuickGelu => g.Mul(x, g.Sigmoid(g.Mul(x, g.Scalar("quick_gelu_slope", 1.702f)))),
        // GELU (erf form, PyTorch's nn.GELU()): 0.5·x·(1 + erf(x/√2))
        Activation.Gelu => g.Mul(g.Mul(x, g.Add(g.Node("Erf", g.Node("Div", x, g.Scalar("sqrt2", MathF.Sqrt(2f)))), g.Scalar("one", 1f))),
            g.Scalar("half", 0.5f)),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation"),
    };

    /// <summary>The shape [n] of a tensor's axis <paramref name="axis"/>, as a 1-D int64 value (for dynamic slicing).</summary>
    public static string Dim(OnnxGraphBuilder g, string x, long axis) =>
        g.Node("Shape", [x], [OnnxGraphBuilder.Int("start", axis), OnnxGraphBuilder.Int("end", axis + 1)]);
}
