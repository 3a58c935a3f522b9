using SharpClip.Files;
using SharpClip.Modeling;
using SharpClip.Onnx;
using SharpClip.Pipelines;
using SharpClip.Runtime;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using SharpClip.Tests.Search;
using SharpClip.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpClip.Tests.Onnx;

/// <summary>
/// The int8 path (<see cref="OnnxQuantization.DynamicInt8"/>, <c>--precision int8</c>): its features against the
/// reference's own float32 outputs over every fixture model within a stated bar, its weight quantization against a
/// plain loop, and the option's plumbing and refusals.
/// </summary>
public class OnnxInt8Tests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Models => Fixtures.Ids("models");

    static string FirstModel => (string)Fixtures.Ids("models").First()[0];

    static string Weights(string id) => Fixtures.PathOf(Fixtures.Entry("models", id).GetProperty("weights").GetString()!);

    /// <summary>
    /// The accuracy bar: every image and caption's int8 feature within this cosine of the reference's float32 feature.
    /// Measured on the fixture models (lowest 0.99945, vit_tiny_p8's text; images 0.99984-1.0); ViT-B/32 and RN50 at random weights give
    /// 0.9989-0.99997 (bench onnx --compare int8). 0.998 leaves room for rounding, not for a wrong scale or a dropped layer,
    /// which give cosines far below it.
    /// </summary>
    const double CosineBar = 0.998;

    [Theory, MemberData(nameof(Models))]
    public void Int8FeaturesStayWithinTheCosineBarOfTheReference(string id)
    {
        using var reference = new ReferenceModel(id);
        using var model = ClipModel.Load(reference.WeightsPath);
        using var int8 = new OnnxClipEncoder(model, new OnnxEngineOptions { Quantization = OnnxQuantization.DynamicInt8 });
        using var scope = torch.NewDisposeScope();
        var expectedImages = reference.Tensor("eval", "image_features");
        var expectedTexts = reference.Tensor("eval", "text_features");
        var images = int8.EmbedImages(reference.Tensor("eval", "pixel_values"), normalize: false);
        var texts = int8.EmbedTexts(reference.Tensor("eval", "input_ids"), normalize: false);

        double imageCosine = MinCosine(expectedImages, images), textCosine = MinCosine(expectedTexts, texts);
        output.WriteLine($"{id}: int8 vs reference fp32, lowest cosine image {imageCosine:F5}, text {textCosine:F5}; " +
                         $"max|Δ|/max|ref| image {Relative(expectedImages, images):E2}, text {Relative(expectedTexts, texts):E2}");
        Assert.True(imageCosine >= CosineBar, $"{id}: an int8 image feature has cosine {imageCosine:F5} to the reference's (bar {CosineBar})");
        Assert.True(textCosine >= CosineBar, $"{id}: an int8 text feature has cosine {textCosine:F5} to the reference's (bar {CosineBar})");
        // Quantized for real: the float32 graph meets the reference to 1e-4 (OnnxEngineParityTests); int8 must not.
        Assert.True(Relative(expectedTexts, texts) > 1e-4, $"{id}: int8 text features equal float32 ones; were the layers quantized?");
    }

    /// <summary>
    /// <c>export onnx --precision int8</c>: the files a deployer gets hold the int8 graphs (DynamicQuantizeMatMul nodes,
    /// int8 weights) and, run by a plain ONNX Runtime session, give features within the bar of the reference's.
    /// </summary>
    [Fact]
    public void ExportWritesTheInt8GraphsAndTheyMeetTheBar()
    {
        using var dir = new TempDir();
        using var reference = new ReferenceModel(FirstModel);
        var (exit, _, err) = CliProcess.Run("export", "onnx", "-m", reference.WeightsPath, "--precision", "int8", "-o", dir.Path);
        Assert.True(exit == 0, err);
        using var scope = torch.NewDisposeScope();
        var imageFile = Path.Combine(dir.Path, OnnxExport.ImageFile);
        var textFile = Path.Combine(dir.Path, OnnxExport.TextFile);
        foreach (var file in new[] { imageFile, textFile })
        {
            var graph = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(file)).Graph;
            Assert.Contains(graph.Node, n => n.OpType == "DynamicQuantizeMatMul");
            var int8 = graph.Initializer.Where(t => t.DataType == (int)global::Onnx.TensorProto.Types.DataType.Int8).ToList();
            Assert.NotEmpty(int8);
            // A file may run on another CPU: its weights use the range without VNNI too (±63), even when exported on a
            // VNNI CPU, whose engine uses ±127. Per output column the largest weight takes the limit itself.
            int largest = int8.Max(t => t.RawData.Length > 0 ? t.RawData.Max(b => Math.Abs((int)(sbyte)b)) : t.Int32Data.Max(Math.Abs));
            Assert.Equal(OnnxExport.PortableInt8Limit, largest);
        }
        var images = OnnxExportTests.RunFile(imageFile, ClipOnnxGraphs.PixelValues, reference.Tensor("eval", "pixel_values"), ClipOnnxGraphs.ImageEmbeds);
        var texts = OnnxExportTests.RunFile(textFile, ClipOnnxGraphs.InputIds, reference.Tensor("eval", "input_ids"), ClipOnnxGraphs.TextEmbeds);
        Assert.True(MinCosine(reference.Tensor("eval", "image_features"), images) >= CosineBar);
        Assert.True(MinCosine(reference.Tensor("eval", "text_features"), texts) >= CosineBar);
        Assert.Contains("int8", File.ReadAllText(Path.Combine(dir.Path, OnnxExport.InfoFile)), StringComparison.Ordinal);
        var (refused, _, why) = CliProcess.Run("export", "onnx", "-m", reference.WeightsPath, "--precision", "bf16", "-o", dir.Path);
        Assert.NotEqual(0, refused);
        Assert.Contains("--precision bf16", why, StringComparison.Ordinal);
    }

    static double MinCosine(Tensor expected, Tensor actual) =>
        torch.nn.functional.cosine_similarity(expected, actual, 1).min().item<float>();

    static double Relative(Tensor expected, Tensor actual) =>
        (actual - expected).abs().max().item<float>() / expected.abs().max().item<float>();

    [Theory]
    [InlineData(127)]
    [InlineData(63)]
    public void WeightsAreSymmetricPerOutputColumn(int limit)
    {
        float[,] w = { { 0.5f, -0.02f, 0f }, { -1.0f, 0.01f, 0f }, { 0.25f, 0.04f, 0f } }; // [in 3, out 3]; the last column all zero
        using var tensor = torch.tensor(w);
        var q = Int8Weights.PerOutputColumn(tensor, limit);
        Assert.Equal([3L, 3L], q.Shape);
        for (int j = 0; j < 3; j++)
        {
            float largest = 0;
            for (int i = 0; i < 3; i++) largest = Math.Max(largest, Math.Abs(w[i, j]));
            float scale = largest > 0 ? largest / limit : 1f;
            Assert.Equal(scale, q.Scales[j], 6);
            for (int i = 0; i < 3; i++)
            {
                int expected = (int)Math.Round(w[i, j] / scale, MidpointRounding.ToEven);
                Assert.Equal(expected, q.Values[i * 3 + j]);
                Assert.True(Math.Abs(q.Values[i * 3 + j] * q.Scales[j] - w[i, j]) <= scale / 2 + 1e-7);
            }
        }
        Assert.Equal(-limit, q.Values[1 * 3 + 0]); // the column's largest magnitude takes the end of the range
    }

    [Fact]
    public void PrecisionInt8RunsTheInt8GraphOnTheOnnxEngine()
    {
        Assert.Equal(Precision.Int8, ComputeTarget.ParsePrecision("INT8", "--precision"));
        using var fp32 = ClipPipeline.Load(Weights(FirstModel), new ClipPipelineOptions { Engine = InferenceEngine.Auto });
        foreach (var engine in new[] { InferenceEngine.Auto, InferenceEngine.Onnx })
        {
            using var int8 = ClipPipeline.Load(Weights(FirstModel), new ClipPipelineOptions { Engine = engine, Precision = Precision.Int8 });
            var encoder = Assert.IsType<OnnxClipEncoder>(int8.Encoder);
            Assert.Equal(OnnxQuantization.DynamicInt8, encoder.Options.Quantization);
            Assert.StartsWith("onnx int8", int8.EngineDescription);
            Assert.Equal(ScalarType.Float32, int8.Model.DType);           // the model keeps its float32 weights
            Assert.NotEqual(fp32.Fingerprint, int8.Fingerprint);           // an index never mixes int8 and float32 embeddings
        }
        Assert.Equal(OnnxQuantization.None, Assert.IsType<OnnxClipEncoder>(fp32.Encoder).Options.Quantization); // never the default
    }

    [Fact]
    public void Int8WithTheTorchEngineIsOneClearError()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            ClipPipeline.Load(Weights(FirstModel), new ClipPipelineOptions { Engine = InferenceEngine.Torch, Precision = Precision.Int8 }));
        Assert.Contains("precision int8", e.Message);
        Assert.Contains("onnx", e.Message);
    }

    [Fact]
    public void Int8IsNotADtypeAndNotForTraining()
    {
        var e = Assert.Throws<ArgumentException>(() => ComputeTarget.ToScalarType(Precision.Int8));
        Assert.Contains("int8", e.Message);
        Assert.Equal(ScalarType.Float32, ComputeTarget.Select("cpu", Precision.Int8).DType);
        var unknown = Assert.Throws<ArgumentException>(() => ComputeTarget.ParsePrecision("int4", "--precision"));
        Assert.Contains("int8", unknown.Message);                          // the error lists the names that work
        var training = Assert.Throws<ArgumentException>(() =>
            new TrainingConfig { Data = "synthetic:shapes:train", Output = "runs/x", Precision = Precision.Int8 }.Validate());
        Assert.Contains("'precision'", training.Message);
        Assert.Contains("inference", training.Message);
    }

    [Fact]
    public void TheCliEmbedsInInt8AndRefusesItOnTheTorchEngine()
    {
        using var reference = new ReferenceModel(FirstModel);
        using var dir = new TempDir();
        var eval = reference.Section("eval");
        var output = Path.Combine(dir.Path, "e.safetensors");
        var args = new List<string> { "embed", "-m", reference.WeightsPath, "--vocab", Fixtures.VocabPath, "--raw", "--precision", "int8", "-o", output };
        args.AddRange(Fixtures.ImagePaths(eval));
        foreach (var c in Fixtures.Strings(eval, "captions")) { args.Add("--text"); args.Add(c); }

        var (exit, _, err) = CliProcess.Run([.. args]);
        Assert.True(exit == 0, err);
        using (var file = SafeTensorsFile.Open(output))
        using (var scope = torch.NewDisposeScope())
        {
            Assert.True(MinCosine(reference.Tensor("eval", "image_features"), file.ReadTensor("image_embeddings")) >= CosineBar);
            Assert.True(MinCosine(reference.Tensor("eval", "text_features"), file.ReadTensor("text_embeddings")) >= CosineBar);
        }

        (exit, _, err) = CliProcess.Run([.. args, "--engine", "torch"]);
        Assert.NotEqual(0, exit);
        Assert.Contains("precision int8", err);
        Assert.Contains("engine onnx or auto", err);
        Assert.DoesNotContain("   at ", err);                               // one message, no stack trace
    }
}
