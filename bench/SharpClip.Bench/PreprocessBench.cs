using System.Diagnostics;
using System.Text.Json;
using SharpClip.Vision;
using VipsImage = NetVips.Image;

namespace SharpClip.Bench;

/// <summary>
/// Images per second for CLIP preprocessing of 1024×768 JPEGs into float32 [3, 224, 224] tensors: one thread, and
/// the parallel batch API on every core. Also times the stages (decode, resize+crop, normalise) on one thread.
/// Usage: <c>dotnet run -c Release --project bench/SharpClip.Bench -- preprocess [--images N] [--json FILE]</c>, or
/// <c>preprocess --list FILE</c> for the per-format stage costs of the files FILE lists (the embed suite writes
/// <c>artifacts/bench-embed/images-200.txt</c>): what an end-to-end figure spends outside the model.
/// </summary>
public static class PreprocessBench
{
    public static int Run(string[] args)
    {
        if (BenchSupport.Option(args, "--list", "") is { Length: > 0 } list) return Folder(File.ReadAllLines(list), BenchSupport.IntOption(args, "--passes", 3));
        int images = BenchSupport.IntOption(args, "--images", 300);
        string json = BenchSupport.Option(args, "--json", Path.Combine("artifacts", "bench", "preprocess.json"));
        string dir = Directory.CreateTempSubdirectory("sharpclip-bench-").FullName;
        try
        {
            string jpeg = Path.Combine(dir, "photo_1024x768.jpg");
            File.WriteAllBytes(jpeg, MakeJpeg(1024, 768));
            var processor = new ClipImageProcessor(PreprocessingInfo.ForResolution(224));
            for (int i = 0; i < 10; i++) processor.Process(jpeg); // warm-up (JIT, libvips init)

            // Stages, one thread.
            var bytes = File.ReadAllBytes(jpeg);
            var (decodeMs, decodeCpuMs) = TimeMs(images / 3, () => ImageDecoder.Decode(bytes, jpeg));
            var decoded = ImageDecoder.Decode(bytes, jpeg);
            var (resizeMs, resizeCpuMs) = TimeMs(images / 3, () => processor.ResizeAndCrop(decoded));
            var rgb = processor.ResizeAndCrop(decoded);
            var (normalizeMs, _) = TimeMs(images, () => processor.Normalize(rgb));

            // End to end from the file, one thread. CPU time is reported too: on a shared machine wall time
            // includes waiting for other processes, CPU time is what the work itself costs.
            var (singleMs, singleCpuMs) = TimeMs(images, () => processor.Process(jpeg));
            double single = 1000 / singleMs, singleCpu = 1000 / singleCpuMs;

            // End to end, the parallel batch API on every core.
            var paths = Enumerable.Repeat(jpeg, images * 2).ToList();
            var sw = Stopwatch.StartNew();
            var results = processor.ProcessBatch(paths);
            double parallel = paths.Count / sw.Elapsed.TotalSeconds;
            if (results.Any(r => !r.Succeeded)) throw new InvalidOperationException("a benchmark image failed to preprocess");
            double load = BenchSupport.LoadAverage1Min();

            var report = new
            {
                suite = "preprocess",
                input = "1024x768 JPEG q90 4:2:0 (synthetic), file on disk",
                output = "float32 [3,224,224]",
                cores = Environment.ProcessorCount,
                images_single_thread = images,
                images_parallel = paths.Count,
                single_thread_images_per_s = Math.Round(single, 1),
                single_thread_images_per_cpu_s = Math.Round(singleCpu, 1),
                parallel_images_per_s = Math.Round(parallel, 1),
                parallel_speedup = Math.Round(parallel / single, 2),
                stage_ms = new { decode = Math.Round(decodeMs, 2), resize_crop = Math.Round(resizeMs, 2), normalize = Math.Round(normalizeMs, 3) },
                stage_cpu_ms = new { decode = Math.Round(decodeCpuMs, 2), resize_crop = Math.Round(resizeCpuMs, 2) },
                load_average_1min = load,
                timestamp_utc = DateTime.UtcNow.ToString("o"),
            };
            Console.WriteLine($"preprocess: 1024x768 JPEG -> float32 [3,224,224]");
            Console.WriteLine($"  single thread : {single,8:F1} images/s wall, {singleCpu:F1} per CPU-second " +
                $"(decode {decodeMs:F2} ms / {decodeCpuMs:F2} ms CPU, resize+crop {resizeMs:F2} / {resizeCpuMs:F2} ms CPU, normalise {normalizeMs:F3} ms)");
            Console.WriteLine($"  parallel ({Environment.ProcessorCount} cores): {parallel,8:F1} images/s  (x{parallel / single:F2}); load average {load}");
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(json))!);
            File.WriteAllText(json, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"  wrote {json}");
            return 0;
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>A photo-like test JPEG: smooth colour gradients with fine noise, so the decoder does realistic work.</summary>
    static byte[] MakeJpeg(int w, int h)
    {
        using var xyz = VipsImage.Xyz(w, h);
        using var x = xyz[0];
        using var y = xyz[1];
        using var r = (x * (255.0 / w));
        using var g = (y * (255.0 / h));
        using var b = ((x + y) * (127.0 / (w + h)) + 64);
        using var noise = VipsImage.Gaussnoise(w, h, mean: 0, sigma: 12);
        using var rgb = r.Bandjoin(g, b);
        using var noisy = (rgb + noise).Cast(NetVips.Enums.BandFormat.Uchar);
        using var srgb = noisy.Copy(interpretation: NetVips.Enums.Interpretation.Srgb);
        return srgb.JpegsaveBuffer(q: 90);
    }

    /// <summary>
    /// Per-format stage costs over a list of files (the embed suite's folder, say), one thread: read, decode,
    /// resize+crop and normalise, then the whole of <see cref="ClipImageProcessor.Process(string)"/> (what
    /// <c>embed</c> runs per file), so an end-to-end figure can be split into its parts. The list runs
    /// <paramref name="passes"/> times and the last pass is reported: a single pass after a short warm-up timed
    /// the JIT's unoptimised first tiers of libvips' bindings and the resampler as well.
    /// </summary>
    static int Folder(IReadOnlyList<string> files, int passes)
    {
        var processor = new ClipImageProcessor(PreprocessingInfo.ForResolution(224));
        var stages = new Dictionary<string, (int N, double Read, double Decode, double Resize, double Normalize, double Whole, double Pixels)>();
        for (int pass = 0; pass < passes; pass++)
        {
            stages.Clear();
            foreach (var f in files)
            {
                var sw = Stopwatch.StartNew();
                var bytes = File.ReadAllBytes(f);
                double read = sw.Elapsed.TotalMilliseconds;
                sw.Restart();
                var decoded = ImageDecoder.Decode(bytes, f);
                double decode = sw.Elapsed.TotalMilliseconds;
                sw.Restart();
                var rgb = processor.ResizeAndCrop(decoded);
                double resize = sw.Elapsed.TotalMilliseconds;
                sw.Restart();
                processor.Normalize(rgb);
                double normalize = sw.Elapsed.TotalMilliseconds;
                sw.Restart();
                processor.Process(f);
                double whole = sw.Elapsed.TotalMilliseconds;
                string ext = Path.GetExtension(f).ToLowerInvariant();
                var s = stages.GetValueOrDefault(ext);
                stages[ext] = (s.N + 1, s.Read + read, s.Decode + decode, s.Resize + resize, s.Normalize + normalize, s.Whole + whole,
                    s.Pixels + (double)decoded.Width * decoded.Height);
            }
        }
        Console.WriteLine($"{files.Count} files, one thread, ms per image, pass {passes} of {passes} (load average {BenchSupport.LoadAverage()})");
        foreach (var (ext, s) in stages)
            Console.WriteLine($"  {ext,-5} x{s.N,4}: read {s.Read / s.N,6:F2}  decode {s.Decode / s.N,6:F2}  resize+crop {s.Resize / s.N,6:F2}  " +
                              $"normalise {s.Normalize / s.N,6:F3}  whole file {s.Whole / s.N,6:F2}  ({s.Pixels / s.N / 1e6:F2} MP, decode {s.Pixels / s.Decode / 1e3:F0} MP/s)");
        var all = stages.Values;
        Console.WriteLine($"  all   x{all.Sum(s => s.N),4}: whole file {all.Sum(s => s.Whole) / all.Sum(s => s.N),6:F2} ms");
        return 0;
    }

    /// <summary>Mean wall-clock and process CPU milliseconds per call.</summary>
    static (double Wall, double Cpu) TimeMs(int n, Action a)
    {
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < n; i++) a();
        double wall = sw.Elapsed.TotalMilliseconds / n;
        return (wall, (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / n);
    }


}
