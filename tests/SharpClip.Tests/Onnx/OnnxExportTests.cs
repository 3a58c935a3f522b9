using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using SharpClip.Files;
using SharpClip.Modeling;
using SharpClip.Onnx;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using SharpClip.Tests.Search;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Onnx;

/// <summary>
/// <c>sharpclip export onnx</c> as a deployer uses it: the files it writes are loaded with a plain ONNX Runtime
/// <see cref="InferenceSession"/> (default options, no SharpClip code in the loop) and must give SharpClip's own torch
/// features and the reference's; the JSON must carry what tokenizing and comparing need. And the model verbs with
/// <c>--engine onnx</c> must write the reference's numbers.
/// </summary>
[Trait("Category", "Fidelity")]
public class OnnxExportTests : IDisposable
{
    readonly TempDir _dir = new();

    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    public void Dispose() => _dir.Dispose();

    [Theory, MemberData(nameof(Models))]
    public void ExportedFilesRunInOnnxRuntimeAndGiveTheTorchFeatures(string id)
    {
        using var reference = new ReferenceModel(id);
        var outDir = Path.Combine(_dir.Path, id);
        var (exit, stdout, err) = CliProcess.Run("export", "onnx", "-m", reference.WeightsPath, "--vocab", Fixtures.VocabPath, "-o", outDir);
        Assert.True(exit == 0, err);
        foreach (var name in new[] { OnnxExport.ImageFile, OnnxExport.TextFile, OnnxExport.InfoFile, "vocab.json", "merges.txt" })
            Assert.Contains(Path.Combine(outDir, name), stdout);

        using var model = ClipModel.Load(reference.WeightsPath);
        using var scope = torch.NewDisposeScope();
        var pixels = reference.Tensor("eval", "pixel_values");
        var ids = reference.Tensor("eval", "input_ids");
        Tensor torchImage, torchText;
        using (torch.inference_mode())
        {
            torchImage = model.EncodeImages(pixels);
            torchText = model.EncodeTexts(ids);
        }

        var image = RunFile(Path.Combine(outDir, OnnxExport.ImageFile), "pixel_values", pixels, "image_embeds");
        TensorAssert.Close(torchImage, image, 1e-4, $"{id} image.onnx vs SharpClip torch");
        TensorAssert.Close(reference.Tensor("eval", "image_features"), image, 1e-4, $"{id} image.onnx vs reference");
        var text = RunFile(Path.Combine(outDir, OnnxExport.TextFile), "input_ids", ids, "text_embeds");
        TensorAssert.Close(torchText, text, 1e-4, $"{id} text.onnx vs SharpClip torch");
        TensorAssert.Close(reference.Tensor("eval", "text_features"), text, 1e-4, $"{id} text.onnx vs reference");

        using var info = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(outDir, OnnxExport.InfoFile)));
        var root = info.RootElement;
        Assert.Equal(reference.Entry.GetProperty("logit_scale").GetDouble(), root.GetProperty("logit_scale").GetDouble(), 6);
        var config = reference.Section("config");
        Assert.Equal(config.GetProperty("context_length").GetInt32(), root.GetProperty("text").GetProperty("context_length").GetInt32());
        Assert.Equal(config.GetProperty("embed_dim").GetInt32(), root.GetProperty("embed_dim").GetInt32());
        Assert.Equal(config.GetProperty("image_resolution").GetInt32(),
            root.GetProperty("image").GetProperty("preprocessing").GetProperty("crop_size").GetProperty("height").GetInt32());
        // The ids' own markers: every row starts with start_of_text and holds end_of_text, the largest id.
        var rows = ids.to(ScalarType.Int64).data<long>().ToArray();
        long context = ids.shape[1];
        Assert.Equal(rows[0], root.GetProperty("text").GetProperty("start_of_text_id").GetInt64());
        Assert.Equal(rows.Take((int)context).Max(), root.GetProperty("text").GetProperty("end_of_text_id").GetInt64());
    }

    [Theory, MemberData(nameof(Models))]
    public void EmbedWithTheOnnxEngineWritesTheReferenceFeatures(string id)
    {
        using var reference = new ReferenceModel(id);
        var eval = reference.Section("eval");
        var output = Path.Combine(_dir.Path, $"{id}.safetensors");
        var args = new List<string> { "embed", "--model", reference.WeightsPath, "--vocab", Fixtures.VocabPath, "--raw", "--engine", "onnx", "--output", output };
        args.AddRange(Fixtures.ImagePaths(eval));
        foreach (var c in Fixtures.Strings(eval, "captions")) { args.Add("--text"); args.Add(c); }
        var (exit, _, err) = CliProcess.Run([.. args]);
        Assert.True(exit == 0, err);
        using var file = SafeTensorsFile.Open(output);
        using var images = file.ReadTensor("image_embeddings");
        using var texts = file.ReadTensor("text_embeddings");
        using var expectedImages = reference.Tensor("eval", "image_features");
        using var expectedTexts = reference.Tensor("eval", "text_features");
        TensorAssert.Close(expectedImages, images, 1e-4, $"{id} embed --engine onnx images");
        TensorAssert.Close(expectedTexts, texts, 1e-4, $"{id} embed --engine onnx texts");
    }

    [Fact]
    public void AnUnknownEngineIsOneClearError()
    {
        var id = (string)Fixtures.Ids("models").First()[0];
        using var reference = new ReferenceModel(id);
        var (exit, _, err) = CliProcess.Run("embed", "--model", reference.WeightsPath, "--vocab", Fixtures.VocabPath, "--engine", "tensorrt",
            "--text", "a cat", "--output", Path.Combine(_dir.Path, "x.npy"));
        Assert.NotEqual(0, exit);
        Assert.Contains("--engine tensorrt: expected torch, onnx, managed or auto", err);
        Assert.DoesNotContain("   at ", err);
    }

    /// <summary>An exported file run as a deployer runs it: default session options, the graph's own input/output names.</summary>
    internal static Tensor RunFile(string path, string inputName, Tensor input, string outputName)
    {
        using var session = new InferenceSession(path);
        Assert.Equal([inputName], session.InputNames);
        Assert.Equal([outputName], session.OutputNames);
        OrtValue value = input.dtype == ScalarType.Float32
            ? OrtValue.CreateTensorValueFromMemory(input.contiguous().data<float>().ToArray(), input.shape)
            : OrtValue.CreateTensorValueFromMemory(input.to(ScalarType.Int64).contiguous().data<long>().ToArray(), input.shape);
        using (value)
        using (var outputs = session.Run(new RunOptions(), [inputName], [value], [outputName]))
        {
            var result = outputs[0];
            var shape = result.GetTensorTypeAndShape().Shape;
            return torch.tensor(result.GetTensorDataAsSpan<float>().ToArray(), shape);
        }
    }
}
