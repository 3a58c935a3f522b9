using SharpClip.Data;
using SharpClip.Demos.Emoji;
using SharpClip.Evaluation;
using SharpClip.Pipelines;
using SharpClip.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Bench;

/// <summary>
/// The accuracy cost of a reduced precision on a trained model: <c>onnx --agreement MODEL [--compare int8|bf16]
/// [--emoji ROOT] [--tasks groups,subgroups] [--calibration DIR]</c> classifies every emoji style's test images zero-shot (the emoji prompt
/// templates) twice, with the model in float32 on ONNX Runtime and in the reduced precision (classifier weights and
/// image features both computed in it), and prints per style and task how often the two predictions agree, both
/// top-1 accuracies, and the image features' cosine to float32 (mean and lowest). <c>--calibration DIR</c> makes a
/// ResNet's convolutions int8 too, with activation ranges measured on that folder's images.
/// </summary>
internal static class ZeroShotAgreementBench
{
    sealed record Row(string Style, string Task, int Images, int Classes, double Agreement, double Fp32Top1, double ReducedTop1,
        double MeanCosine, double MinCosine);

    public static int Run(string[] args, string modelPath)
    {
        string Option(string name, string fallback) => BenchSupport.Option(args, name, fallback);
        var compare = Option("--compare", "int8");
        var root = Option("--emoji", Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "sharpclip", "datasets", "emoji"));
        var tasks = Option("--tasks", "groups,subgroups").Split(',');
        var calibration = Option("--calibration", "");
        var output = Option("--out", Path.Combine("artifacts", "bench", $"onnx-agreement-{compare}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json"));
        var reducedPrecision = compare switch
        {
            "int8" => Precision.Int8,
            "bf16" => Precision.BFloat16,
            _ => throw new ArgumentException($"--compare {compare}: expected int8 or bf16"),
        };
        using var fp32 = ClipPipeline.Load(modelPath, new ClipPipelineOptions { Engine = InferenceEngine.Onnx });
        using var reduced = ClipPipeline.Load(modelPath, new ClipPipelineOptions
        {
            Precision = reducedPrecision,
            Int8CalibrationFolder = calibration.Length > 0 ? calibration : null,
            Engine = reducedPrecision == Precision.Int8 ? InferenceEngine.Onnx : InferenceEngine.Torch,
        });
        Console.WriteLine($"zero-shot agreement on the emoji styles ({root}): {modelPath}");
        Console.WriteLine($"  fp32: {fp32.EngineDescription}; {compare}: {reduced.EngineDescription}; templates: {string.Join(" | ", EmojiStyleSets.Templates.Templates)}");
        Console.WriteLine($"{"style",-15} {"task",-10} {"images",6} {"classes",7} {"agree",7} {"fp32 top-1",10} {compare + " top-1",10} {"mean cos",9} {"min cos",8}");
        var rows = new List<Row>();
        foreach (var task in tasks)
            foreach (var style in EmojiStyleSets.FromRoot(root, task, "test"))
            {
                var row = Compare(fp32, reduced, style.Style, task, style.Dataset);
                rows.Add(row);
                Console.WriteLine($"{row.Style,-15} {row.Task,-10} {row.Images,6} {row.Classes,7} {row.Agreement,7:P1} {row.Fp32Top1,10:P1} {row.ReducedTop1,10:P1} {row.MeanCosine,9:F5} {row.MinCosine,8:F5}");
            }
        foreach (var task in tasks)
        {
            var of = rows.Where(r => r.Task == task).ToList();
            double agreed = of.Sum(r => r.Agreement * r.Images), images = of.Sum(r => r.Images);
            Console.WriteLine($"{"all styles",-15} {task,-10} {images,6} {"",7} {agreed / images,7:P1} {of.Sum(r => r.Fp32Top1 * r.Images) / images,10:P1} " +
                              $"{of.Sum(r => r.ReducedTop1 * r.Images) / images,10:P1} {of.Sum(r => r.MeanCosine * r.Images) / images,9:F5} {of.Min(r => r.MinCosine),8:F5}");
        }
        BenchSupport.WriteReport(output, new { suite = "onnx", agreement = compare, model = modelPath, emoji = root, engine = reduced.EngineDescription, rows });
        return 0;
    }

    static Row Compare(ClipPipeline fp32, ClipPipeline reduced, string style, string task, LabeledDataset set)
    {
        var images = set.Items.Select(i => i.Image).ToList();
        var labels = set.Labels;
        var (fp32Predicted, fp32Features) = Predict(fp32, set, images);
        var (reducedPredicted, reducedFeatures) = Predict(reduced, set, images);
        using var scope = torch.NewDisposeScope();
        var ok = Enumerable.Range(0, images.Count).Where(i => fp32Features.Ok[i] && reducedFeatures.Ok[i]).ToList();
        var a = torch.tensor(ok.SelectMany(i => fp32Features.Row(i).ToArray()).ToArray(), [ok.Count, fp32Features.Dimension]);
        var b = torch.tensor(ok.SelectMany(i => reducedFeatures.Row(i).ToArray()).ToArray(), [ok.Count, reducedFeatures.Dimension]);
        var cosine = torch.nn.functional.cosine_similarity(a, b, 1);
        double Share(Func<int, bool> hit) => ok.Count(hit) / (double)ok.Count;
        return new Row(style, task, ok.Count, set.ClassNames.Count,
            Share(i => fp32Predicted[i] == reducedPredicted[i]), Share(i => fp32Predicted[i] == labels[i]), Share(i => reducedPredicted[i] == labels[i]),
            cosine.mean().item<float>(), cosine.min().item<float>());
    }

    /// <summary>Top-1 class per image (−1 where the image could not be read) and the features it came from.</summary>
    static (int[] Predicted, FeatureMatrix Features) Predict(ClipPipeline pipeline, LabeledDataset set, IReadOnlyList<ImageSource> images)
    {
        using var classifier = ZeroShotEvaluator.BuildClassifier(pipeline, set, EmojiStyleSets.Templates);
        var features = ImageFeatures.Extract(pipeline, images);
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(features.Values, [features.Count, features.Dimension]);
        var predicted = classifier.Logits(x).argmax(1).data<long>().ToArray();
        return (Enumerable.Range(0, features.Count).Select(i => features.Ok[i] ? (int)predicted[i] : -1).ToArray(), features);
    }
}
