using System.Diagnostics;
using System.Text.Json;
using SharpClip.Checkpoints;
using SharpClip.Data;
using SharpClip.Evaluation;
using SharpClip.Modeling;
using SharpClip.Pipelines;
using TorchSharp;

namespace SharpClip.Bench;

/// <summary>
/// Evaluation throughput: images/s for feature extraction (random-weight ViT-B/32 through <see cref="ImageFeatures"/>,
/// i.e. preprocessing + image tower, on generated 256×256 images) and the time to fit the logistic-regression probe
/// on 10,000 × 512 features (one fit at C = 1, and the full C sweep of <see cref="LinearProbe.SelectC"/>).
/// Usage: <c>evaluation [--images 256] [--batch 32] [--rows 10000] [--classes 10] [--sweep] [--out FILE]</c>.
/// </summary>
public static class EvaluationBench
{
    public static int Run(string[] args)
    {
        string Option(string name, string fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        int images = int.Parse(Option("--images", "256")), batch = int.Parse(Option("--batch", "32"));
        int rows = int.Parse(Option("--rows", "10000")), classes = int.Parse(Option("--classes", "10"));
        bool sweep = args.Contains("--sweep");
        var output = Option("--out", Path.Combine("artifacts", "bench", $"evaluation-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json"));
        Console.WriteLine($"torch threads: {torch.get_num_threads()}; load average: {File.ReadAllText("/proc/loadavg").Trim()}");

        // Feature extraction: a random ViT-B/32 saved and loaded like any checkpoint, fed generated images.
        var dir = Directory.CreateTempSubdirectory("sharpclip-evalbench-").FullName;
        double imagesPerSecond, firstBatchMs;
        try
        {
            var weights = Path.Combine(dir, "vitb32-random.safetensors");
            torch.manual_seed(0);
            using (var model = new ClipModel(ClipPresets.VitB32))
                SafeTensorsWriter.Write(weights, model.state_dict());
            using var pipeline = ClipPipeline.Load(weights, new ClipPipelineOptions { BatchSize = batch });
            var rng = new Random(1);
            var sources = Enumerable.Range(0, images).Select(i =>
            {
                var px = new byte[256 * 256 * 3];
                rng.NextBytes(px);
                return (ImageSource)new RawRgbImage(256, 256, px, $"generated {i}");
            }).ToList();
            var warm = Stopwatch.StartNew();
            ImageFeatures.Extract(pipeline, sources.Take(batch).ToList());
            firstBatchMs = warm.Elapsed.TotalMilliseconds;
            var sw = Stopwatch.StartNew();
            var features = ImageFeatures.Extract(pipeline, sources);
            imagesPerSecond = features.Count / sw.Elapsed.TotalSeconds;
            Console.WriteLine($"feature extraction (ViT-B/32 random weights, 256x256 RGB → 224, batch {batch}): {imagesPerSecond:F1} images/s over {images} images (warm-up batch {firstBatchMs:F0} ms)");
        }
        finally { Directory.Delete(dir, recursive: true); }

        // Probe fit: Gaussian class clusters in 512-d, unit-normalised like CLIP features.
        const int dim = 512;
        var (x, y) = Clusters(rows, dim, classes, seed: 2);
        var fit = Stopwatch.StartNew();
        var m = LogisticRegression.Fit(x, y, classes, c: 1.0);
        double fitSeconds = fit.Elapsed.TotalSeconds;
        Console.WriteLine($"probe fit ({rows} x {dim}, {classes} classes, C=1): {fitSeconds:F2} s, {m.Iterations} L-BFGS iterations, train accuracy {m.Accuracy(x, y):P1}");
        double? sweepSeconds = null;
        if (sweep)
        {
            var (vx, vy) = Clusters(rows / 5, dim, classes, seed: 3);
            var s = Stopwatch.StartNew();
            double best = LinearProbe.SelectC(new LabeledFeatures(x, y, dim), new LabeledFeatures(vx, vy, dim), classes);
            sweepSeconds = s.Elapsed.TotalSeconds;
            Console.WriteLine($"C sweep (13 + 8 fits, warm-started): {sweepSeconds:F1} s, best C {best:G3}");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        File.WriteAllText(output, JsonSerializer.Serialize(new
        {
            suite = "evaluation", images, batch, imagesPerSecond, firstBatchMs, probe = new { rows, dim, classes, fitSeconds, iterations = m.Iterations, sweepSeconds },
            load = File.ReadAllText("/proc/loadavg").Trim(),
        }, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {output}");
        return 0;
    }

    static (float[] X, int[] Y) Clusters(int n, int dim, int classes, int seed)
    {
        var rng = new Random(seed);
        var centres = new float[classes * dim];
        for (int i = 0; i < centres.Length; i++) centres[i] = (float)Gauss(rng);
        var x = new float[n * dim];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = i % classes;
            double norm = 0;
            for (int d = 0; d < dim; d++) { float v = centres[y[i] * dim + d] * 0.15f + (float)Gauss(rng); x[i * dim + d] = v; norm += v * v; }
            float inv = (float)(1 / Math.Sqrt(norm));
            for (int d = 0; d < dim; d++) x[i * dim + d] *= inv;
        }
        return (x, y);
    }

    static double Gauss(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}
