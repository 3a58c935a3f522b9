using SharpClip.Files;
using SharpClip.Modeling;
using SharpClip.Onnx;
using SharpClip.Pipelines;
using SharpClip.Runtime;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;
using SharpClip.Tests.Search;
using SharpClip.Training;
using SharpClip.Vision;
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

    /// <summary>
    /// The bar for a ResNet whose convolutions are int8 too (<see cref="ActivationRanges"/>): every activation of the
    /// tower is rounded to 8 bits, not only the linear layers' inputs, so the features move further than with the
    /// linear layers alone, and values beyond the calibrated ranges are clipped. Measured on the public fixtures
    /// (untrained ResNets): calibrated on the evaluated images themselves 0.9957-0.9966, on the other fixture images
    /// 0.935-0.985, exported (±63 kernels, the whole image folder) 0.980; RN50 at random weights 0.99998. Hence two bars:
    /// in distribution, and with ranges from other images. A wrong scale or a dropped layer gives far lower cosines.
    /// </summary>
    const double ResNetConvolutionBar = 0.99, ResNetOtherImagesBar = 0.9;

    static bool IsResNet(string id) => Fixtures.Entry("models", id).GetProperty("architecture").GetString() == "resnet";

    /// <summary>
    /// int8 convolutions on the reference's own evaluation images, calibrated on the other fixture images (the case of
    /// a user calibrating on a folder of their own and encoding new images): within the bar of the reference's float32
    /// features, and really int8 — the graph holds int8 kernels for every convolution after the stem's first, and its
    /// features differ from those of the graph whose convolutions stay float32.
    /// </summary>
    [Theory, MemberData(nameof(Models))]
    public void ResNetInt8ConvolutionsCalibratedOnOtherImagesMeetTheirBar(string id)
    {
        if (!IsResNet(id)) { output.WriteLine($"{id}: not a ResNet; a ViT's layers need no calibration"); return; }
        using var reference = new ReferenceModel(id);
        using var model = ClipModel.Load(reference.WeightsPath);
        using var scope = torch.NewDisposeScope();
        var eval = reference.Section("eval");
        var evalFiles = Fixtures.ImagePaths(eval).Select(Path.GetFullPath).ToHashSet();
        var others = Fixtures.Array("images").Select(e => Path.GetFullPath(Fixtures.PathOf(e.GetProperty("file").GetString()!)))
            .Where(f => !evalFiles.Contains(f)).ToList();
        var processor = new ClipImageProcessor(PreprocessingInfo.ForResolution(model.Config.ImageResolution));
        var read = processor.ProcessBatch(others).Where(r => r.PixelValues is not null).ToList();
        Assert.NotEmpty(read);
        int r = model.Config.ImageResolution;
        var calibrationPixels = torch.tensor(read.SelectMany(x => x.PixelValues!).ToArray(), [read.Count, 3, r, r]);
        var ranges = ActivationRanges.Measure(model, calibrationPixels);

        var pixels = reference.Tensor("eval", "pixel_values");
        var expected = reference.Tensor("eval", "image_features");
        using var convs = new OnnxClipEncoder(model, new OnnxEngineOptions { Quantization = OnnxQuantization.DynamicInt8, Calibration = ranges });
        using var linearOnly = new OnnxClipEncoder(model, new OnnxEngineOptions { Quantization = OnnxQuantization.DynamicInt8 });
        var heldOut = convs.EmbedImages(pixels, normalize: false);
        var floatConvs = linearOnly.EmbedImages(pixels, normalize: false);
        using var inDistribution = new OnnxClipEncoder(model, new OnnxEngineOptions
        {
            Quantization = OnnxQuantization.DynamicInt8, Calibration = ActivationRanges.Measure(model, pixels),
        });
        var calibratedOnThem = inDistribution.EmbedImages(pixels, normalize: false);
        double cosine = MinCosine(expected, heldOut);
        output.WriteLine($"{id}: int8 convolutions calibrated on {read.Count} other images: lowest cosine {cosine:F5}; " +
                         $"calibrated on the evaluated images themselves {MinCosine(expected, calibratedOnThem):F5}; " +
                         $"float32 convolutions {MinCosine(expected, floatConvs):F5}");
        Assert.True(cosine >= ResNetOtherImagesBar, $"{id}: an int8-convolution image feature has cosine {cosine:F5} to the reference's (bar {ResNetOtherImagesBar})");
        double own = MinCosine(expected, calibratedOnThem);
        Assert.True(own >= ResNetConvolutionBar, $"{id}: calibrated on the evaluated images, cosine {own:F5} (bar {ResNetConvolutionBar})");
        Assert.True(Relative(floatConvs, heldOut) > 1e-3, $"{id}: int8 convolutions give the float32 convolutions' features; were they quantized?");

        var graph = ClipOnnxGraphs.ImageTower(model, quantization: OnnxQuantization.DynamicInt8, calibration: ranges).Graph;
        int kernels = graph.Initializer.Count(t => t.DataType == (int)global::Onnx.TensorProto.Types.DataType.Int8 && t.Dims.Count == 4);
        int convolutions = model.state_dict().Count(kv => kv.Key.StartsWith("visual.", StringComparison.Ordinal) && kv.Value.dim() == 4);
        Assert.Equal(convolutions - 1, kernels); // all but the stem's first, which sees the float pixels
    }

    /// <summary>
    /// What calibration measures is the activations' real range: the stem's first point (conv1, BatchNorm in eval mode,
    /// ReLU) computed here with torch's own operators from the weights gives the same smallest and largest value.
    /// </summary>
    [Theory, MemberData(nameof(Models))]
    public void CalibrationMeasuresTheActivationsRange(string id)
    {
        if (!IsResNet(id)) return;
        using var reference = new ReferenceModel(id);
        using var model = ClipModel.Load(reference.WeightsPath);
        using var scope = torch.NewDisposeScope();
        var pixels = reference.Tensor("eval", "pixel_values");
        var ranges = ActivationRanges.Measure(model, pixels, batchSize: 4); // batches of 4: the ranges span batches
        var w = model.state_dict();
        var y = torch.nn.functional.conv2d(pixels, w["visual.conv1.weight"].to(ScalarType.Float32), strides: [2, 2], padding: [1, 1]);
        y = torch.nn.functional.batch_norm(y, w["visual.bn1.running_mean"].to(ScalarType.Float32), w["visual.bn1.running_var"].to(ScalarType.Float32),
            w["visual.bn1.weight"].to(ScalarType.Float32), w["visual.bn1.bias"].to(ScalarType.Float32), training: false, eps: 1e-5).relu();
        var (min, max) = ranges["visual.bn1"];
        Assert.Equal(0f, min);
        Assert.Equal(y.max().item<float>(), max, 3);
        Assert.Equal(pixels.shape[0], ranges.Images);
        var e = Assert.Throws<InvalidDataException>(() => ranges["visual.layer9.0"]);
        Assert.Contains("another model", e.Message);
    }

    /// <summary>
    /// <c>export onnx --precision int8 --calibration DIR</c> on a ResNet: the image file holds int8 kernels in standard
    /// QDQ form (any ONNX runtime reads it) within the portable ±63, and, run by a plain ONNX Runtime session, meets the
    /// ResNet bar; <c>--calibration</c> on the model verbs gives the int8-convolution engine and its own fingerprint.
    /// </summary>
    [Fact]
    public void ExportAndThePipelineWriteResNetInt8Convolutions()
    {
        var id = Fixtures.Ids("models").Select(row => (string)row[0]).FirstOrDefault(IsResNet);
        if (id is null) { output.WriteLine("no ResNet fixture model"); return; }
        using var dir = new TempDir();
        using var reference = new ReferenceModel(id);
        var images = Path.Combine(Fixtures.Dir, "images");
        var (exit, _, err) = CliProcess.Run("export", "onnx", "-m", reference.WeightsPath, "--precision", "int8", "--calibration", images, "-o", dir.Path);
        Assert.True(exit == 0, err);
        using var scope = torch.NewDisposeScope();
        var imageFile = Path.Combine(dir.Path, OnnxExport.ImageFile);
        var graph = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(imageFile)).Graph;
        Assert.Contains(graph.Node, n => n.OpType == "QuantizeLinear");
        var kernels = graph.Initializer.Where(t => t.DataType == (int)global::Onnx.TensorProto.Types.DataType.Int8 && t.Dims.Count == 4).ToList();
        Assert.NotEmpty(kernels);
        Assert.Equal(OnnxExport.PortableInt8Limit, kernels.Max(t => t.RawData.Max(b => Math.Abs((int)(sbyte)b))));
        var features = OnnxExportTests.RunFile(imageFile, ClipOnnxGraphs.PixelValues, reference.Tensor("eval", "pixel_values"), ClipOnnxGraphs.ImageEmbeds);
        double cosine = MinCosine(reference.Tensor("eval", "image_features"), features);
        output.WriteLine($"{id}: exported int8-convolution image tower, lowest cosine {cosine:F5}");
        Assert.True(cosine >= ResNetOtherImagesBar, $"{id}: exported int8 convolutions, cosine {cosine:F5} (bar {ResNetOtherImagesBar})");
        Assert.Contains("convolutions int8", File.ReadAllText(Path.Combine(dir.Path, OnnxExport.InfoFile)), StringComparison.Ordinal);

        using var linearOnly = ClipPipeline.Load(reference.WeightsPath, new ClipPipelineOptions { Precision = Precision.Int8 });
        using var convs = ClipPipeline.Load(reference.WeightsPath, new ClipPipelineOptions { Precision = Precision.Int8, Int8CalibrationFolder = images });
        Assert.NotNull(Assert.IsType<OnnxClipEncoder>(convs.Encoder).Options.Calibration);
        Assert.Contains("convolutions (ranges from", convs.EngineDescription);
        Assert.Contains("float32 convolutions", linearOnly.EngineDescription);
        Assert.NotEqual(linearOnly.Fingerprint, convs.Fingerprint);    // an index never mixes the two
        var missing = Assert.Throws<DirectoryNotFoundException>(() => ClipPipeline.Load(reference.WeightsPath,
            new ClipPipelineOptions { Precision = Precision.Int8, Int8CalibrationFolder = Path.Combine(dir.Path, "nowhere") }));
        Assert.Contains("nowhere", missing.Message);
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
        using var fp32 = ClipPipeline.Load(Weights(FirstModel), new ClipPipelineOptions { Engine = InferenceEngine.Onnx });
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
    public void ACalibrationFolderThatIsNotThereIsRefusedWhateverTheTower()
    {
        var nowhere = Path.Combine(Path.GetTempPath(), $"sharpclip-no-calibration-{Guid.NewGuid():N}");
        var e = Assert.Throws<DirectoryNotFoundException>(() =>
            ClipPipeline.Load(Weights(FirstModel), new ClipPipelineOptions { Precision = Precision.Int8, Int8CalibrationFolder = nowhere }));
        Assert.Contains(nowhere, e.Message);
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
