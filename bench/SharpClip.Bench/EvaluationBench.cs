using SharpClip.Files;
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
/// on 10,000 × 512 features: one fit at C = 1 and, with <c>--sweep</c>, the whole probe of <see cref="LinearProbe.Run"/>
/// (13 coarse + 8 refined fits choosing C on a validation set, then the final refit on train + validation) with the
/// time per fit. Usage: <c>evaluation [--images 256] [--batch 32] [--rows 10000] [--classes 10] [--sweep]
/// [--no-extraction] [--out FILE]</c>.
/// </summary>
public static class EvaluationBench
{
    public static int Run(string[] args)
    {
        string Option(string name, string fallback) => BenchSupport.Option(args, name, fallback);
        int images = int.Parse(Option("--images", "256")), batch = int.Parse(Option("--batch", "32"));
        int rows = int.Parse(Option("--rows", "10000")), classes = int.Parse(Option("--classes", "10"));
        bool sweep = args.Contains("--sweep"), extraction = !args.Contains("--no-extraction");
        var output = Option("--out", Path.Combine("artifacts", "bench", $"evaluation-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json"));
        Console.WriteLine($"torch threads: {torch.get_num_threads()}; load average: {BenchSupport.LoadAverage()}");

        double? imagesPerSecond = null, firstBatchMs = null;
        if (extraction) (imagesPerSecond, firstBatchMs) = Extraction(images, batch);

        // Probe fit: Gaussian class clusters in 512-d, unit-normalised like CLIP features.
        const int dim = 512;
        var (x, y) = Clusters(rows, dim, classes, seed: 2);
        var fit = Stopwatch.StartNew();
        var m = LogisticRegression.Fit(x, y, classes, c: 1.0);
        double fitSeconds = fit.Elapsed.TotalSeconds;
        Console.WriteLine($"probe fit ({rows} x {dim}, {classes} classes, C=1): {fitSeconds:F2} s, {m.Iterations} L-BFGS iterations, train accuracy {m.Accuracy(x, y):P1}");
        object? sweepReport = null;
        if (sweep)
        {
            // The full protocol: sweep on a validation set, refit on train + validation, score on a test set.
            var validation = Clusters(rows / 5, dim, classes, seed: 3);
            var test = Clusters(rows / 5, dim, classes, seed: 4);
            var s = Stopwatch.StartNew();
            var probe = LinearProbe.Run(new LabeledFeatures(x, y, dim), new LabeledFeatures(validation.X, validation.Y, dim),
                new LabeledFeatures(test.X, test.Y, dim), classes);
            double total = s.Elapsed.TotalSeconds;
            var fits = probe.Sweep.All.ToList();
            var perFit = fits.Select(f => f.Seconds).Order().ToList();
            double sweepSeconds = perFit.Sum(), median = perFit[perFit.Count / 2];
            Console.WriteLine($"full probe ({rows} x {dim} train, {rows / 5} validation, {classes} classes): {total:F1} s = C sweep {sweepSeconds:F1} s " +
                $"({probe.Sweep.Coarse.Count} coarse + {probe.Sweep.Refined.Count} refined fits) + final refit on {probe.TrainCount} rows {probe.FinalFitSeconds:F2} s");
            Console.WriteLine($"  per sweep fit: mean {perFit.Average():F2} s, median {median:F2} s, range {perFit[0]:F2}–{perFit[^1]:F2} s; " +
                $"L-BFGS iterations {fits.Min(f => f.Iterations)}–{fits.Max(f => f.Iterations)}; chosen C {probe.C:G3} (validation {probe.ValidationAccuracy:P1}, test {probe.TestAccuracy:P1})");
            foreach (var f in fits)
                Console.WriteLine($"    C {f.C,10:G3}: validation {f.ValidationAccuracy,7:P1}, {f.Iterations,4} iterations, {f.Seconds,6:F2} s");
            sweepReport = new
            {
                totalSeconds = total, sweepSeconds, finalFitSeconds = probe.FinalFitSeconds, fits = fits.Count,
                meanFitSeconds = perFit.Average(), medianFitSeconds = median, chosenC = probe.C,
                validationAccuracy = probe.ValidationAccuracy, testAccuracy = probe.TestAccuracy,
                perFit = fits.Select(f => new { c = f.C, validationAccuracy = f.ValidationAccuracy, iterations = f.Iterations, seconds = f.Seconds }),
            };
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        File.WriteAllText(output, JsonSerializer.Serialize(new
        {
            suite = "evaluation", images, batch, imagesPerSecond, firstBatchMs, probe = new { rows, dim, classes, fitSeconds, iterations = m.Iterations }, sweep = sweepReport,
            load = BenchSupport.LoadAverage(),
        }, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {output}");
        return 0;
    }

    /// <summary>A random ViT-B/32 saved and loaded like any checkpoint, fed generated images: (images/s, first batch ms).</summary>
    static (double ImagesPerSecond, double FirstBatchMs) Extraction(int images, int batch)
    {
        var dir = Directory.CreateTempSubdirectory("sharpclip-evalbench-").FullName;
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
            double firstBatchMs = warm.Elapsed.TotalMilliseconds;
            var sw = Stopwatch.StartNew();
            var features = ImageFeatures.Extract(pipeline, sources);
            double imagesPerSecond = features.Count / sw.Elapsed.TotalSeconds;
            Console.WriteLine($"feature extraction (ViT-B/32 random weights, 256x256 RGB → 224, batch {batch}): {imagesPerSecond:F1} images/s over {images} images (warm-up batch {firstBatchMs:F0} ms)");
            return (imagesPerSecond, firstBatchMs);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>
    /// <paramref name="n"/> samples of Gaussian class clusters in <paramref name="dim"/>-d, unit-normalised like CLIP
    /// features. The class centres are the same for every call (so train, validation and test share classes);
    /// <paramref name="seed"/> draws the samples.
    /// </summary>
    static (float[] X, int[] Y) Clusters(int n, int dim, int classes, int seed)
    {
        var centreRng = new Random(1);
        var centres = new float[classes * dim];
        for (int i = 0; i < centres.Length; i++) centres[i] = (float)Gauss(centreRng);
        var rng = new Random(seed);
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
