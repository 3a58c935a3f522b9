using Onnx;
using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Onnx;

/// <summary>
/// Writes a loaded <see cref="ClipModel"/>'s two towers as ONNX graphs (opset 17, float32 weights copied from the live
/// tensors): the image tower takes <c>pixel_values</c> [batch, 3, r, r] and gives <c>image_embeds</c> [batch, embed_dim];
/// the text tower takes <c>input_ids</c> [batch, tokens] int64 and gives <c>text_embeds</c> [batch, embed_dim]. Batch and
/// tokens are dynamic; the embeddings are the projections before L2 normalisation, as <c>encode_image</c> /
/// <c>encode_text</c> return them.
/// </summary>
public static class ClipOnnxGraphs
{
    /// <summary>The image graph's input.</summary>
    public const string PixelValues = "pixel_values";
    /// <summary>The image graph's output.</summary>
    public const string ImageEmbeds = "image_embeds";
    /// <summary>The text graph's input.</summary>
    public const string InputIds = "input_ids";
    /// <summary>The text graph's output.</summary>
    public const string TextEmbeds = "text_embeds";

    /// <summary>A protobuf message (an ONNX file without external data) holds at most 2 GiB.</summary>
    const long MaxWeightBytes = int.MaxValue - (64L << 20);

    /// <summary>The image tower (<see cref="VisionTransformer"/> or <see cref="ModifiedResNet"/>) as an ONNX model;
    /// <paramref name="contribAttention"/> writes the transformer's attention as ONNX Runtime's fused com.microsoft
    /// operator, <paramref name="contribResidualNorm"/> each residual sum and the LayerNorm after it as its
    /// SkipLayerNormalization, <paramref name="quantization"/> its linear layers as int8 (all three run only on ONNX Runtime), with weights
    /// within ±<paramref name="int8Limit"/> (null: this CPU's <see cref="Int8Weights.LimitOnThisCpu"/>; a file meant for
    /// other machines needs the limit every CPU runs without overflow, <c>Int8Weights.Limit(false)</c>). A ResNet's
    /// convolutions become int8 as well when <paramref name="calibration"/> gives their activations' ranges (ignored for
    /// a ViT and for float32).</summary>
    /// <exception cref="NotSupportedException">the model has tensors the writer does not know, or is too large for one file.</exception>
    /// <exception cref="InvalidDataException"><paramref name="calibration"/> was measured on another model.</exception>
    public static ModelProto ImageTower(ClipModel model, bool contribAttention = false, OnnxQuantization quantization = OnnxQuantization.None,
        int? int8Limit = null, bool contribResidualNorm = false, ActivationRanges? calibration = null)
    {
        var config = model.Config;
        return Write(model, "image", contribAttention, quantization, int8Limit, contribResidualNorm, key => key.StartsWith("visual.", StringComparison.Ordinal), (g, w) =>
        {
            var pixels = g.Input(PixelValues, TensorProto.Types.DataType.Float, "batch", 3, config.ImageResolution, config.ImageResolution);
            var convs = g.Int8Limit is { } limit && calibration is not null ? ConvolutionPrecision.Int8(calibration, limit) : ConvolutionPrecision.Float32();
            var features = config.IsVisionTransformer
                ? VisionTransformerGraph.Write(g, w, config, pixels)
                : ModifiedResNetGraph.Write(g, w, config, pixels, convs);
            g.Output(features, ImageEmbeds, TensorProto.Types.DataType.Float, "batch", config.EmbedDim);
        });
    }

    /// <summary>A ResNet image tower in float32 with, besides <see cref="ImageEmbeds"/>, each quantization point's
    /// smallest and largest value as scalar outputs named by <see cref="RangeOutput"/>: what calibration runs.</summary>
    internal static ModelProto ImageTowerObserver(ClipModel model, out IReadOnlyList<string> points)
    {
        var config = model.Config;
        var convs = ConvolutionPrecision.Observe();
        var graph = Write(model, "image", false, OnnxQuantization.None, null, false, key => key.StartsWith("visual.", StringComparison.Ordinal), (g, w) =>
        {
            var pixels = g.Input(PixelValues, TensorProto.Types.DataType.Float, "batch", 3, config.ImageResolution, config.ImageResolution);
            g.Output(ModifiedResNetGraph.Write(g, w, config, pixels, convs), ImageEmbeds, TensorProto.Types.DataType.Float, "batch", config.EmbedDim);
        });
        points = convs.Points;
        return graph;
    }

    /// <summary>The observer graph's output holding <paramref name="point"/>'s <paramref name="end"/> ("min" or "max").</summary>
    internal static string RangeOutput(string point, string end) => $"range.{point}.{end}";

    /// <summary>The text tower (<see cref="TextTransformer"/>) as an ONNX model (see <see cref="ImageTower"/> for
    /// <paramref name="contribAttention"/>, <paramref name="quantization"/>, <paramref name="int8Limit"/> and
    /// <paramref name="contribResidualNorm"/>).</summary>
    /// <exception cref="NotSupportedException">the model has tensors the writer does not know, or is too large for one file.</exception>
    public static ModelProto TextTower(ClipModel model, bool contribAttention = false, OnnxQuantization quantization = OnnxQuantization.None,
        int? int8Limit = null, bool contribResidualNorm = false)
    {
        var config = model.Config;
        return Write(model, "text", contribAttention, quantization, int8Limit, contribResidualNorm, key => !key.StartsWith("visual.", StringComparison.Ordinal) && key != "logit_scale", (g, w) =>
        {
            var ids = g.Input(InputIds, TensorProto.Types.DataType.Int64, "batch", "tokens");
            var features = TextTransformerGraph.Write(g, w, config, ids);
            g.Output(features, TextEmbeds, TensorProto.Types.DataType.Float, "batch", config.EmbedDim);
        });
    }

    static ModelProto Write(ClipModel model, string tower, bool contribAttention, OnnxQuantization quantization, int? limit,
        bool contribResidualNorm, Func<string, bool> belongs, Action<OnnxGraphBuilder, TowerWeights> write)
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var weights = new TowerWeights(model.state_dict(), belongs, model.Source);
        int? int8Limit = quantization switch
        {
            OnnxQuantization.None => null,
            OnnxQuantization.DynamicInt8 => limit ?? Int8Weights.LimitOnThisCpu,
            _ => throw new ArgumentOutOfRangeException(nameof(quantization), quantization, "unknown quantization"),
        };
        var g = new OnnxGraphBuilder($"sharpclip_{tower}_tower", contribAttention, int8Limit, contribResidualNorm);
        write(g, weights);
        weights.RequireAllUsed(tower);
        if (g.WeightBytes > MaxWeightBytes)
            throw new NotSupportedException($"{model.Source}: the {tower} tower has {g.WeightBytes / (1 << 20)} MiB of weights; " +
                                            "an ONNX file without external data holds at most 2 GiB");
        return g.Build($"SharpClip {tower} tower of {model.Config}");
    }
}
