using System.Diagnostics;
using System.Text.Json;
using SharpClip.Generation.Dalle;
using SharpClip.Generation.Dalle.Dvae;
using SharpClip.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Bench;

/// <summary>
/// DALL-E's pieces with random weights. So far the dVAE: images/s of <see cref="DiscreteVae.Encode"/> (image →
/// tokens) and <see cref="DiscreteVae.Decode"/> (tokens → image) at the released size (n_hid 256, 2 blocks per group,
/// 8192 codes, n_init 128) on 256×256 images, per batch size, fp32, with each case's peak RSS.
/// Method: 1 warm-up, then the median of 3 timed runs (one image costs ~10¹¹ FLOPs each way).
/// Usage: <c>dalle [--batches 1,4] [--size 256] [--runs 3] [--out FILE]</c>.
/// </summary>
public static class DalleBench
{
    sealed record Case(string Part, int Batch, int Size, double ImagesPerSecond, double MedianMs, double[] TimingsMs, double PeakRssMiB);

    public static int Run(string[] args)
    {
        var batches = BenchSupport.Option(args, "--batches", "1,4").Split(',').Select(int.Parse).ToArray();
        int size = BenchSupport.IntOption(args, "--size", 256);
        int runs = BenchSupport.IntOption(args, "--runs", 3);
        var output = BenchSupport.Option(args, "--out", Path.Combine("artifacts", "bench", $"dalle-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json"));

        var cpu = CpuFeatures.Current;
        Console.WriteLine($"CPU: {cpu.ModelName}, {cpu.LogicalCores} logical cores; flags: {string.Join(" ", cpu.RelevantFlags)}");
        double gflops = ModelBench.GemmGflops();
        Console.WriteLine($"torch threads: {torch.get_num_threads()}; fp32 GEMM 2048³: {gflops:F1} GFLOP/s; load average before: {BenchSupport.LoadAverage()}");

        torch.manual_seed(0);
        using var dvae = new DiscreteVae(new Encoder(DvaeEncoderConfig.Released), new Decoder(DvaeDecoderConfig.Released));
        dvae.Encoder.eval();
        dvae.Decoder.eval();
        long encoderParams = dvae.Encoder.parameters().Sum(p => p.numel()), decoderParams = dvae.Decoder.parameters().Sum(p => p.numel());
        Console.WriteLine($"dVAE as released: encoder {encoderParams / 1e6:F1} M parameters, decoder {decoderParams / 1e6:F1} M; {size}x{size} images, " +
                          $"{size / dvae.Downsampling}x{size / dvae.Downsampling} tokens");

        var cases = new List<Case>();
        Console.WriteLine($"{"part",-7} {"batch",5} {"images/s",9} {"median ms",10}  {"peak RSS MiB",12}  timings ms");
        foreach (int batch in batches)
        {
            using var image = torch.rand(batch, 3, size, size);
            using var tokens = torch.randint(0, dvae.VocabSize, [batch, size / dvae.Downsampling, size / dvae.Downsampling]);
            foreach (var (part, run) in new (string, Action)[] { ("encode", () => dvae.Encode(image).Dispose()), ("decode", () => dvae.Decode(tokens).Dispose()) })
            {
                var c = Measure(part, batch, size, runs, run);
                cases.Add(c);
                Console.WriteLine($"{c.Part,-7} {c.Batch,5} {c.ImagesPerSecond,9:F3} {c.MedianMs,10:F0}  {c.PeakRssMiB,12:F0}  {string.Join(", ", c.TimingsMs.Select(t => t.ToString("F0")))}");
            }
        }
        Console.WriteLine($"load average after: {BenchSupport.LoadAverage()}");

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        var report = new
        {
            suite = "dalle",
            utc = DateTime.UtcNow,
            cpu = new { model = cpu.ModelName, cores = cpu.LogicalCores, flags = cpu.RelevantFlags },
            torch_threads = torch.get_num_threads(),
            gemm_2048_gflops = gflops,
            method = $"1 warm-up, median of {runs}; random weights (package initialisation); fp32; inference_mode",
            dvae = new { encoder = DvaeEncoderConfig.Released, decoder = DvaeDecoderConfig.Released, encoder_params = encoderParams, decoder_params = decoderParams },
            cases,
        };
        File.WriteAllText(output, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
        Console.WriteLine($"wrote {output}");
        return 0;
    }

    static Case Measure(string part, int batch, int size, int runs, Action run)
    {
        run();
        BenchSupport.ResetPeakRss();
        var timings = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            run();
            timings[i] = sw.Elapsed.TotalMilliseconds;
        }
        double median = timings.Order().ElementAt(runs / 2);
        return new Case(part, batch, size, batch / (median / 1000), median, timings, BenchSupport.PeakRssMiB());
    }
}
