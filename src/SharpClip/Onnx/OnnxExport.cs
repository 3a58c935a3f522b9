using System.Text.Json.Nodes;
using Google.Protobuf;
using SharpClip.Files;
using SharpClip.Modeling;
using SharpClip.Text;
using SharpClip.Vision;
using TorchSharp;

namespace SharpClip.Onnx;

/// <summary>
/// Writes a model's towers for deployment with ONNX Runtime (or any ONNX runtime) outside SharpClip:
/// <c>image.onnx</c>, <c>text.onnx</c> (the graphs the ONNX engine runs, standard opset-17 operators only),
/// <c>clip_onnx.json</c> (inputs, outputs, preprocessing, tokenizer rules and the logit scale a deployer needs) and,
/// when the model has a vocabulary, the tokenizer as Hugging Face's <c>vocab.json</c> / <c>merges.txt</c>.
/// </summary>
public static class OnnxExport
{
    /// <summary>The file names written into the output folder.</summary>
    public const string ImageFile = "image.onnx", TextFile = "text.onnx", InfoFile = "clip_onnx.json";

    /// <summary>What was written.</summary>
    /// <param name="Files">Every file written, full paths.</param>
    /// <param name="ImageBytes">Size of image.onnx.</param>
    /// <param name="TextBytes">Size of text.onnx.</param>
    public sealed record Result(IReadOnlyList<string> Files, long ImageBytes, long TextBytes);

    /// <summary>Writes the export into <paramref name="directory"/> (created if needed; files of the same names replaced).</summary>
    /// <param name="model">The loaded model (any dtype and device: the files hold float32 copies of its weights).</param>
    /// <param name="preprocessing">How its images are prepared.</param>
    /// <param name="tokenizer">Its tokenizer, or null when the model carries no vocabulary (the JSON then says so).</param>
    /// <param name="directory">The output folder.</param>
    /// <param name="quantization">
    /// <see cref="OnnxQuantization.DynamicInt8"/> writes the graphs the engine's <c>--precision int8</c> runs (linear layers
    /// as ONNX Runtime's com.microsoft <c>DynamicQuantizeMatMul</c>): smaller files, faster on CPUs with VNNI, but they run
    /// only on ONNX Runtime. The weights stay within ±<see cref="PortableInt8Limit"/> whatever CPU exports them, because
    /// the file may run on another: ±127 (what the engine uses on a VNNI CPU) overflows the int16 sums of the kernels of
    /// CPUs without VNNI.
    /// </param>
    /// <param name="calibration">With int8, a ResNet image tower's activation ranges (<see cref="ActivationRanges.Measure"/>):
    /// its convolutions are then written int8 too, as standard QDQ operators (<c>QuantizeLinear</c>/<c>DequantizeLinear</c>
    /// around float convolutions, which ONNX Runtime runs as int8 kernels); null leaves them float32.</param>
    /// <exception cref="NotSupportedException">a tower the writer cannot express, or larger than one ONNX file holds.</exception>
    public static Result Write(ClipModel model, PreprocessingInfo preprocessing, ClipTokenizer? tokenizer, string directory,
        OnnxQuantization quantization = OnnxQuantization.None, ActivationRanges? calibration = null)
    {
        Directory.CreateDirectory(directory);
        var image = Path.Combine(directory, ImageFile);
        var text = Path.Combine(directory, TextFile);
        var info = Path.Combine(directory, InfoFile);
        WriteModel(image, ClipOnnxGraphs.ImageTower(model, quantization: quantization, int8Limit: PortableInt8Limit, calibration: calibration));
        WriteModel(text, ClipOnnxGraphs.TextTower(model, quantization: quantization, int8Limit: PortableInt8Limit));
        var files = new List<string> { image, text, info };
        if (tokenizer is not null)
        {
            tokenizer.Vocabulary.SaveHuggingFace(directory);
            files.Add(Path.Combine(directory, "vocab.json"));
            files.Add(Path.Combine(directory, "merges.txt"));
        }
        JsonFiles.WriteAtomic(info, Describe(model, preprocessing, tokenizer, quantization, calibration));
        return new Result(files, new FileInfo(image).Length, new FileInfo(text).Length);
    }

    /// <summary>The int8 weight limit of exported files: the one every CPU's kernels run without overflow.</summary>
    public static int PortableInt8Limit => Int8Weights.Limit(int8DotProduct: false);

    /// <summary>The contents of <c>clip_onnx.json</c>.</summary>
    public static JsonObject Describe(ClipModel model, PreprocessingInfo preprocessing, ClipTokenizer? tokenizer,
        OnnxQuantization quantization = OnnxQuantization.None, ActivationRanges? calibration = null)
    {
        var config = model.Config;
        bool int8Convolutions = quantization != OnnxQuantization.None && calibration is not null && !config.IsVisionTransformer;
        float logitScale;
        using (var scale = model.LogitScale.detach().to(torch.ScalarType.Float32, torch.CPU)) logitScale = scale.item<float>();
        return new JsonObject
        {
            ["format"] = "sharpclip-onnx/1",
            ["opset"] = OnnxGraphBuilder.Opset,
            ["architecture"] = config.ToString(),
            ["source"] = Path.GetFileName(model.Source.TrimEnd('/', '\\')),
            ["precision"] = quantization == OnnxQuantization.None
                ? "float32 (standard operators)"
                : $"int8 linear layers: com.microsoft DynamicQuantizeMatMul (ONNX Runtime only), weights symmetric per output channel within ±{PortableInt8Limit} (safe on CPUs with and without VNNI), activations quantized per call; " +
                  (int8Convolutions
                      ? $"the image tower's convolutions int8 too (QDQ: kernels per output channel within ±{PortableInt8Limit}, activations uint8 with ranges measured on {calibration!.Images} calibration images, clipped outside them); the rest float32"
                      : "the rest float32"),
            ["embed_dim"] = config.EmbedDim,
            ["logit_scale"] = logitScale,
            ["similarity"] = "logits = exp(logit_scale) * normalize(image_embeds) @ normalize(text_embeds).T; the outputs are not normalised",
            ["image"] = new JsonObject
            {
                ["file"] = ImageFile,
                ["input"] = Tensor(ClipOnnxGraphs.PixelValues, "float32", "batch", 3, config.ImageResolution, config.ImageResolution),
                ["output"] = Tensor(ClipOnnxGraphs.ImageEmbeds, "float32", "batch", config.EmbedDim),
                ["preprocessing"] = preprocessing.ToHuggingFaceJson(),
                ["preprocessing_steps"] = "RGB; resize the shorter side to size.shortest_edge (PIL filter 'resample'); centre-crop crop_size; " +
                                          "x * rescale_factor; (x - image_mean) / image_std per channel; NCHW",
            },
            ["text"] = new JsonObject
            {
                ["file"] = TextFile,
                ["input"] = Tensor(ClipOnnxGraphs.InputIds, "int64", "batch", "tokens"),
                ["output"] = Tensor(ClipOnnxGraphs.TextEmbeds, "float32", "batch", config.EmbedDim),
                ["context_length"] = config.ContextLength,
                ["vocab_size"] = config.VocabSize,
                ["start_of_text_id"] = tokenizer?.StartOfText,
                ["end_of_text_id"] = tokenizer?.EndOfText,
                ["pad_id"] = 0,
                ["tokenizer"] = tokenizer is null ? null : "CLIP BPE (vocab.json, merges.txt; Hugging Face CLIPTokenizer reads them)",
                ["ids"] = "[start_of_text, BPE tokens..., end_of_text], padded with pad_id to at most context_length; " +
                          "the embedding is taken at each row's first end_of_text (the largest id), so columns after the batch's last end_of_text may be cut",
            },
        };
    }

    static JsonObject Tensor(string name, string type, params object[] shape) => new()
    {
        ["name"] = name,
        ["dtype"] = type,
        ["shape"] = new JsonArray(shape.Select(d => d is string s ? JsonValue.Create(s) : (JsonNode)JsonValue.Create((int)d)).ToArray()),
    };

    static void WriteModel(string path, global::Onnx.ModelProto model)
    {
        var tmp = path + ".tmp";
        using (var stream = File.Create(tmp)) model.WriteTo(stream);
        File.Move(tmp, path, overwrite: true);
    }
}
