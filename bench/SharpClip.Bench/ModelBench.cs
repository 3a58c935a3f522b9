using System.Diagnostics;
using SharpClip.Modeling;
using SharpClip.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Bench;

/// <summary>
/// Inference throughput of <see cref="ClipModel"/> with random weights: images/s and texts/s for ViT-B/32 and RN50 at
/// batch 1, 8 and 32, in fp32 and (only where the CPU has bf16 instructions) bf16, with each case's peak RSS.
/// Method as the reference baseline (shared/notes/baseline.md): 2 warm-up runs, then the median of 5 timed runs.
/// Texts run twice per case, alternating: "text" is the inference path (padding after the batch's last end token
/// trimmed), "text-full" all context positions as the reference computes them.
/// Usage: <c>model [--models ViT-B/32,RN50] [--batches 1,8,32] [--precisions fp32,bf16] [--towers image,text,text-full]
/// [--caption-tokens 76] [--out FILE]</c>; --caption-tokens bounds the random captions' length (prompts such as "a photo
/// of a dog." are 7-12 tokens).
/// </summary>
public static class ModelBench
{
    const int WarmUps = 2;
    const int TimedRuns = 5;

    sealed record Case(string Model, string Tower, string Precision, int Batch, double PerSecond, double MedianMs,
        double[] TimingsMs, double PeakRssMiB);

    public static int Run(string[] args)
    {
        string Option(string name, string fallback) => BenchSupport.Option(args, name, fallback);
        var models = Option("--models", "ViT-B/32,RN50").Split(',');
        var batches = Option("--batches", "1,8,32").Split(',').Select(int.Parse).ToArray();
        var cpu = CpuFeatures.Current;
        var precisions = Option("--precisions", cpu.HasFastBf16 ? "fp32,bf16" : "fp32").Split(',');
        var towers = Option("--towers", "image,text,text-full").Split(',');
        int captionTokens = int.Parse(Option("--caption-tokens", "76"));
        var output = Option("--out", Path.Combine("artifacts", "bench", $"model-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json"));

        Console.WriteLine($"CPU: {cpu.ModelName}, {cpu.LogicalCores} logical cores; flags: {string.Join(" ", cpu.RelevantFlags)}");
        Console.WriteLine($"bf16 hardware support: {cpu.HasFastBf16}; torch threads: {torch.get_num_threads()}; TorchSharp {typeof(torch).Assembly.GetName().Version}");
        if (precisions.Contains("bf16") && !cpu.HasFastBf16)
            Console.WriteLine("warning: bf16 asked for on a CPU without avx512_bf16/amx_bf16: expect it to be ~100x slower than fp32");
        double gflops = GemmGflops();
        Console.WriteLine($"fp32 GEMM 2048³: {gflops:F1} GFLOP/s (baseline.md's reference machine: 208.4 with OpenBLAS)");
        Console.WriteLine($"load average before: {BenchSupport.LoadAverage()}");

        var cases = new List<Case>();
        Console.WriteLine($"{"model",-9} {"tower",-6} {"prec",-5} {"batch",5} {"per s",9} {"median ms",10}  {"peak RSS MiB",12}  timings ms");
        foreach (var name in models)
        {
            var config = ClipPresets.Get(name);
            torch.manual_seed(0);
            using var model = new ClipModel(config);
            model.eval();
            foreach (var precision in precisions)
            {
                model.To(CPU, precision == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32);
                foreach (int batch in batches)
                    foreach (var tower in towers)
                    {
                        var c = Measure(model, name, tower, precision, batch, captionTokens);
                        cases.Add(c);
                        Console.WriteLine($"{c.Model,-9} {c.Tower,-6} {c.Precision,-5} {c.Batch,5} {c.PerSecond,9:F2} {c.MedianMs,10:F1}  {c.PeakRssMiB,12:F0}  {string.Join(", ", c.TimingsMs.Select(t => t.ToString("F1")))}");
                    }
            }
        }
        Console.WriteLine($"load average after: {BenchSupport.LoadAverage()}");

        var report = new
        {
            suite = "model",
            utc = DateTime.UtcNow,
            cpu = new { model = cpu.ModelName, cores = cpu.LogicalCores, flags = cpu.RelevantFlags, bf16 = cpu.HasFastBf16 },
            torch_threads = torch.get_num_threads(),
            gemm_2048_gflops = gflops,
            method = $"{WarmUps} warm-ups, median of {TimedRuns}; random weights; eval mode; inference_mode",
            cases,
        };
        BenchSupport.WriteReport(output, report);
        return 0;
    }

    static Case Measure(ClipModel model, string name, string tower, string precision, int batch, int captionTokens)
    {
        var config = model.Config;
        using var input = tower == "image"
            ? torch.randn(batch, 3, config.ImageResolution, config.ImageResolution)
            : RandomIds(batch, config, captionTokens);
        Func<Tensor> run = tower switch
        {
            "image" => () => model.EmbedImages(input, normalize: false),
            "text" => () => model.EmbedTexts(input, normalize: false),
            "text-full" => () => model.EmbedTexts(input, normalize: false, trimPadding: false),
            _ => throw new ArgumentException($"--towers {tower}: expected image, text or text-full"),
        };
        for (int i = 0; i < WarmUps; i++) run().Dispose();
        BenchSupport.ResetPeakRss();
        var timings = new double[TimedRuns];
        for (int i = 0; i < TimedRuns; i++)
        {
            var sw = Stopwatch.StartNew();
            run().Dispose();
            timings[i] = sw.Elapsed.TotalMilliseconds;
        }
        double median = timings.Order().ElementAt(TimedRuns / 2);
        return new Case(name, tower, precision, batch, batch / (median / 1000), median, timings, BenchSupport.PeakRssMiB());
    }

    // Start token, random words, end-of-text at a random position, zero padding: what clip.tokenize produces.
    static Tensor RandomIds(int batch, ClipConfig config, int captionTokens)
    {
        var rng = new Random(batch);
        var ids = new long[batch, config.ContextLength];
        for (int b = 0; b < batch; b++)
        {
            int length = rng.Next(Math.Min(4, captionTokens), Math.Clamp(captionTokens, 5, config.ContextLength - 1));
            ids[b, 0] = config.VocabSize - 2;
            for (int t = 1; t < length; t++) ids[b, t] = rng.Next(1, config.VocabSize - 2);
            ids[b, length] = config.VocabSize - 1;
        }
        return torch.tensor(ids);
    }

    internal static double GemmGflops()
    {
        using var a = torch.randn(2048, 2048);
        using var b = torch.randn(2048, 2048);
        using (torch.inference_mode()) a.mm(b).Dispose();
        var times = new List<double>();
        for (int i = 0; i < 3; i++)
        {
            var sw = Stopwatch.StartNew();
            using (torch.inference_mode()) a.mm(b).Dispose();
            times.Add(sw.Elapsed.TotalSeconds);
        }
        return 2.0 * 2048 * 2048 * 2048 / times.Min() / 1e9;
    }



}
