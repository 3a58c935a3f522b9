using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using SharpClip.Modeling;
using SharpClip.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Onnx;

/// <summary>
/// The range every activation of a ResNet image tower took over a set of calibration images: what its int8
/// convolutions quantize their inputs and outputs with. A convolution's output must be quantized with a scale fixed
/// before it is computed (ONNX Runtime's fast int8 convolution writes uint8, not int32), so unlike the linear layers'
/// per-call quantization this needs images; <see cref="Measure"/> runs the float32 graph over them and keeps each
/// activation's smallest and largest value. Values outside the measured range are clipped to it, so calibrate with
/// images like the ones the encoder will see (a few dozen of the user's own are enough).
/// </summary>
public sealed class ActivationRanges
{
    /// <summary>Each quantization point's [smallest, largest] value, by the name of the module that produces it
    /// (<c>visual.layer1.0.bn1</c> is that BatchNorm's ReLU output, <c>visual.layer1.0</c> the block's output).</summary>
    public IReadOnlyDictionary<string, (float Min, float Max)> Ranges { get; }

    /// <summary>How many images the ranges were measured on.</summary>
    public int Images { get; }

    /// <summary>A short hash of the ranges: what an index's fingerprint names, so embeddings from two calibrations
    /// are never mixed.</summary>
    public string Fingerprint { get; }

    public ActivationRanges(IReadOnlyDictionary<string, (float Min, float Max)> ranges, int images)
    {
        Ranges = ranges;
        Images = images;
        var text = new StringBuilder();
        foreach (var (name, (min, max)) in ranges.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            text.Append(name).Append(':').Append(BitConverter.SingleToInt32Bits(min)).Append(',').Append(BitConverter.SingleToInt32Bits(max)).Append(';');
        Fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    /// <summary>The range of <paramref name="point"/>, or one clear error when these ranges were measured on another model.</summary>
    public (float Min, float Max) this[string point] => Ranges.TryGetValue(point, out var range)
        ? range
        : throw new InvalidDataException($"the calibration ranges have no '{point}': they were measured on another model");

    /// <summary>The most images <see cref="MeasureFolder"/> reads: ranges settle after a few dozen, and calibration runs
    /// the float32 tower once per image.</summary>
    public const int MaxFolderImages = 256;

    /// <summary>
    /// The ranges over the images in <paramref name="folder"/> (and its subfolders; at most <see cref="MaxFolderImages"/>,
    /// spread evenly over the sorted file names), prepared by <paramref name="processor"/> as the encoder's inputs are.
    /// Files that do not decode are skipped; a folder without a readable image is one clear error.
    /// </summary>
    public static ActivationRanges MeasureFolder(ClipModel model, ClipImageProcessor processor, string folder, int? threads = null)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"calibration folder {folder} does not exist");
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Where(ImageFormats.IsReadableName)
            .Order(StringComparer.Ordinal).ToList();
        if (files.Count > MaxFolderImages)
            files = Enumerable.Range(0, MaxFolderImages).Select(i => files[(int)((long)i * files.Count / MaxFolderImages)]).ToList();
        var read = processor.ProcessBatch(files).Where(r => r.PixelValues is not null).ToList();
        if (read.Count == 0)
            throw new InvalidDataException($"calibration folder {folder}: no readable image ({string.Join(", ", ImageFormats.ReadableExtensions)}) among {files.Count} file(s)");
        var (width, height) = processor.OutputSize;
        var pixels = new float[read.Count * 3L * width * height];
        for (int i = 0; i < read.Count; i++) read[i].PixelValues!.CopyTo(pixels, i * 3L * width * height);
        using var tensor = torch.tensor(pixels, [read.Count, 3, height, width]);
        return Measure(model, tensor, threads: threads);
    }

    /// <summary>
    /// Runs <paramref name="model"/>'s float32 image graph over <paramref name="pixels"/> ([images, 3, r, r], normalised
    /// as the model's preprocessing gives them) in batches and keeps each quantization point's range.
    /// </summary>
    /// <exception cref="NotSupportedException">the model's image tower is not a ResNet (a ViT's linear layers need no calibration).</exception>
    public static ActivationRanges Measure(ClipModel model, Tensor pixels, int batchSize = 8, int? threads = null)
    {
        if (model.Config.IsVisionTransformer)
            throw new NotSupportedException($"{model.Source}: calibration ranges are for ResNet image towers; a ViT's int8 layers quantize per call");
        int r = model.Config.ImageResolution;
        if (pixels.dim() != 4 || pixels.shape[1] != 3 || pixels.shape[2] != r || pixels.shape[3] != r || pixels.shape[0] == 0)
            throw new ArgumentException($"calibration pixels must be [images ≥ 1, 3, {r}, {r}]; got [{string.Join(",", pixels.shape)}]", nameof(pixels));
        var graph = ClipOnnxGraphs.ImageTowerObserver(model, out var points);
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads ?? torch.get_num_threads() };
        using var session = new InferenceSession(graph.ToByteArray(), options);
        var outputs = points.SelectMany(p => new[] { ClipOnnxGraphs.RangeOutput(p, "min"), ClipOnnxGraphs.RangeOutput(p, "max") }).ToList();
        var ranges = points.ToDictionary(p => p, _ => (Min: float.PositiveInfinity, Max: float.NegativeInfinity));
        long count = pixels.shape[0];
        for (long start = 0; start < count; start += batchSize)
        {
            long n = Math.Min(batchSize, count - start);
            float[] data;
            using (var scope = torch.NewDisposeScope())
                data = pixels.narrow(0, start, n).detach().to(ScalarType.Float32, CPU).contiguous().data<float>().ToArray();
            using var input = OrtValue.CreateTensorValueFromMemory(data, [n, 3, r, r]);
            using var run = new RunOptions();
            using var values = session.Run(run, [ClipOnnxGraphs.PixelValues], [input], outputs);
            var read = values.ToList();
            int i = 0;
            foreach (var point in points)
            {
                float min = read[i++].GetTensorDataAsSpan<float>()[0], max = read[i++].GetTensorDataAsSpan<float>()[0];
                if (!float.IsFinite(min) || !float.IsFinite(max))
                    throw new InvalidDataException($"{model.Source}: '{point}' is not finite on calibration images {start}–{start + n - 1}");
                var known = ranges[point];
                ranges[point] = (Math.Min(known.Min, min), Math.Max(known.Max, max));
            }
        }
        return new ActivationRanges(ranges, (int)count);
    }
}
