using SharpClip.Files;
using System.Diagnostics;
using System.Text.Json;
using SharpClip.Checkpoints;
using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;
using SharpClip.Vision;

namespace SharpClip.Bench;

/// <summary>
/// Checkpoint load times: a ViT-B/32-sized random state dict (float16, 151M parameters) written as safetensors, a
/// SharpClip folder and a Hugging Face folder, then read back through <see cref="CheckpointLoader"/>; plus any
/// checkpoint paths given (e.g. a .pt written by PyTorch, to compare with torch.load on the same file).
/// Usage: <c>dotnet run -c Release --project bench/SharpClip.Bench -- checkpoints [--runs N] [--out FILE] [PATH...]</c>
/// </summary>
public static class CheckpointBench
{
    public static int Run(string[] args)
    {
        int runs = 3;
        string output = "bench-checkpoints.json";
        var extra = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--runs") runs = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
            else if (args[i] == "--out") output = args[++i];
            else extra.Add(args[i]);
        }

        var tmp = Path.Combine(Path.GetTempPath(), "sharpclip-bench-ckpt-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(tmp);
        var results = new List<object>();
        try
        {
            var config = new ClipConfig(); // ViT-B/32
            var targets = new List<(string Name, string Path)>();
            using (var scope = NewDisposeScope())
            {
                manual_seed(0);
                var sd = ClipStateDictSchema.ExpectedShapes(config)
                    .ToDictionary(kv => kv.Key, kv => randn(kv.Value, dtype: ScalarType.Float16));
                var pre = PreprocessingInfo.ForResolution(config.ImageResolution);
                var st = Path.Combine(tmp, "vit-b32.safetensors");
                var sw = Stopwatch.StartNew();
                SafeTensorsWriter.Write(st, sd);
                Report(results, "write safetensors (ViT-B/32 fp16)", st, [sw.Elapsed.TotalSeconds]);
                sw.Restart();
                ClipModelFolder.Write(Path.Combine(tmp, "native"), config, sd, null, pre);
                Report(results, "write SharpClip folder (ViT-B/32 fp16)", Path.Combine(tmp, "native"), [sw.Elapsed.TotalSeconds]);
                sw.Restart();
                HuggingFaceClipFolder.Write(Path.Combine(tmp, "hf"), config, sd, pre);
                Report(results, "write Hugging Face folder (ViT-B/32 fp16)", Path.Combine(tmp, "hf"), [sw.Elapsed.TotalSeconds]);
                targets.Add(("read safetensors (ViT-B/32 fp16)", st));
                targets.Add(("read SharpClip folder (ViT-B/32 fp16)", Path.Combine(tmp, "native")));
                targets.Add(("read Hugging Face folder (ViT-B/32 fp16, q/k/v packed on load)", Path.Combine(tmp, "hf")));
            }
            targets.AddRange(extra.Select(p => ($"read {Path.GetFileName(p.TrimEnd('/'))}", p)));

            foreach (var (name, path) in targets)
            {
                var times = new List<double>();
                for (int r = 0; r < runs; r++)
                {
                    var sw = Stopwatch.StartNew();
                    using var ckpt = CheckpointLoader.Read(path);
                    times.Add(sw.Elapsed.TotalSeconds);
                }
                Report(results, name, path, times);
            }
        }
        finally
        {
            Directory.Delete(tmp, recursive: true);
        }
        var json = new
        {
            suite = "checkpoints",
            cpu = CpuModel(),
            peak_working_set_mb = Process.GetCurrentProcess().PeakWorkingSet64 / 1e6,
            results,
        };
        File.WriteAllText(output, JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"peak working set {json.peak_working_set_mb:F0} MB; wrote {output}");
        return 0;
    }

    static void Report(List<object> results, string name, string path, List<double> seconds)
    {
        long bytes = File.Exists(path) ? new FileInfo(path).Length
            : Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        var sorted = seconds.Order().ToList();
        double median = sorted[sorted.Count / 2], best = sorted[0];
        Console.WriteLine($"{name,-70} {bytes / 1e6,8:F1} MB  median {median,7:F3} s  best {best,7:F3} s  {bytes / 1e6 / median,7:F0} MB/s");
        results.Add(new { name, path = Path.GetFileName(path), mb = bytes / 1e6, median_s = median, best_s = best, runs = seconds.Count });
    }

    static string CpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        }
        catch (IOException) { return "unknown"; }
    }
}
