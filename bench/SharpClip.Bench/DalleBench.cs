using System.Diagnostics;
using SharpClip.Generation.Dalle;
using SharpClip.Generation.Dalle.Dvae;
using SharpClip.Generation.Dalle.Sampling;
using SharpClip.Generation.Dalle.Transformer;
using SharpClip.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Bench;

/// <summary>
/// DALL-E's pieces with random weights. So far the dVAE: images/s of <see cref="DiscreteVae.Encode"/> (image →
/// tokens) and <see cref="DiscreteVae.Decode"/> (tokens → image) at the released size (n_hid 256, 2 blocks per group,
/// 8192 codes, n_init 128) on 256×256 images, per batch size, fp32, with each case's peak RSS.
/// Method: 1 warm-up, then the median of 3 timed runs (one image costs ~10¹¹ FLOPs each way).
/// Then sampling: image tokens/s of <see cref="DalleSampler.Sample"/> with and without the key/value cache, per batch
/// size, for a transformer of the emoji recipe's size (width 256, 4 layers, 24 caption + 8×8 image tokens, 512 codes).
/// Usage: <c>dalle [--parts dvae,sampling] [--batches 1,4] [--sample-batches 1,8] [--size 256] [--runs 3] [--out FILE]</c>.
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

        var parts = BenchSupport.Option(args, "--parts", "dvae,sampling").Split(',');
        var cases = new List<Case>();
        if (parts.Contains("dvae")) Console.WriteLine($"{"part",-7} {"batch",5} {"images/s",9} {"median ms",10}  {"peak RSS MiB",12}  timings ms");
        foreach (int batch in parts.Contains("dvae") ? batches : [])
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
        var sampling = parts.Contains("sampling") ? SamplingCases(BenchSupport.Option(args, "--sample-batches", "1,8").Split(',').Select(int.Parse), runs) : [];
        Console.WriteLine($"load average after: {BenchSupport.LoadAverage()}");

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
            sampling,
        };
        BenchSupport.WriteReport(output, report);
        return 0;
    }

    sealed record SamplingCase(int Batch, bool Cache, double ImageTokensPerSecond, double MedianMs, double[] TimingsMs);

    static List<SamplingCase> SamplingCases(IEnumerable<int> batches, int runs)
    {
        var config = new DalleConfig { TextVocabSize = 1024, TextLength = 24, ImageVocabSize = 512, ImageRows = 8, ImageColumns = 8, Width = 256, Layers = 4, Heads = 4 };
        torch.manual_seed(0);
        using var model = new DalleTransformer(config);
        model.eval();
        Console.WriteLine($"DALL-E transformer, random weights: {model.parameters().Sum(p => p.numel()) / 1e6:F1} M parameters; {config.TextLength} + {config.ImageTokens} tokens");
        Console.WriteLine($"{"batch",5} {"cache",6} {"image tokens/s",15} {"median ms",10}  timings ms");
        var result = new List<SamplingCase>();
        foreach (int batch in batches)
            foreach (bool cache in new[] { true, false })
            {
                using var text = torch.randint(0, config.TextTokens, [batch, config.TextLength]);
                var options = new SamplingOptions { UseCache = cache, TopK = 64, BatchSize = batch };
                var c = Measure("sample", batch, 0, runs, () => DalleSampler.Sample(model, text, options, new torch.Generator(1)).Dispose());
                var s = new SamplingCase(batch, cache, batch * config.ImageTokens / (c.MedianMs / 1000), c.MedianMs, c.TimingsMs);
                result.Add(s);
                Console.WriteLine($"{batch,5} {(cache ? "yes" : "no"),6} {s.ImageTokensPerSecond,15:F0} {s.MedianMs,10:F0}  {string.Join(", ", s.TimingsMs.Select(t => t.ToString("F0")))}");
            }
        return result;
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
