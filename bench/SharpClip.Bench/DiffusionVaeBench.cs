using System.Diagnostics;
using SharpClip.Generation.Diffusion.Autoencoder;
using SharpClip.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Bench;

/// <summary>
/// Stable Diffusion's KL autoencoder at SD 1.x/2.x's real shape (ch 128, ch_mult 1,2,4,4, 2 res blocks; random
/// weights): seconds per decode of a [batch, 4, L, L] latent to an 8L × 8L image (and optionally per encode of that
/// image), in fp32 and, where the CPU has bf16 instructions, bf16, with peak RSS (weights included). A decode at 512×512
/// is about 2.5 TFLOP, so the default is one warm-up and three timed runs.
/// Usage: <c>diffusion-vae [--latent 64] [--batch 1] [--runs 3] [--precisions fp32,bf16] [--encode] [--out FILE]</c>.
/// </summary>
public static class DiffusionVaeBench
{
    sealed record Case(string Operation, string Precision, int Batch, int LatentSide, int ImageSide, double MedianSeconds,
        double[] TimingsSeconds, double PeakRssMiB);

    public static int Run(string[] args)
    {
        string Option(string name, string fallback) => BenchSupport.Option(args, name, fallback);
        int latent = BenchSupport.IntOption(args, "--latent", 64);
        int batch = BenchSupport.IntOption(args, "--batch", 1);
        int runs = BenchSupport.IntOption(args, "--runs", 3);
        var cpu = CpuFeatures.Current;
        var precisions = Option("--precisions", cpu.HasFastBf16 ? "fp32,bf16" : "fp32").Split(',');
        bool encode = args.Contains("--encode");
        var output = Option("--out", Path.Combine("artifacts", "bench", $"diffusion-vae-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json"));

        Console.WriteLine($"CPU: {cpu.ModelName}, {cpu.LogicalCores} logical cores; flags: {string.Join(" ", cpu.RelevantFlags)}");
        Console.WriteLine($"bf16 hardware support: {cpu.HasFastBf16}; torch threads: {torch.get_num_threads()}; load average before: {BenchSupport.LoadAverage()}");
        var config = AutoencoderConfig.StableDiffusion;
        torch.manual_seed(0);
        using var vae = new AutoencoderKL(config);
        vae.eval();
        long parameters = vae.parameters().Sum(p => p.numel());
        Console.WriteLine($"{config}; {parameters / 1e6:F1} M parameters ({parameters * 4 / 1048576.0:F0} MiB in fp32); RSS peak after building: {BenchSupport.PeakRssMiB():F0} MiB");

        var cases = new List<Case>();
        int side = latent * config.DownsampleFactor;
        Console.WriteLine($"{"op",-7} {"prec",-5} {"batch",5} {"latent",7} {"image",6} {"median s",9} {"peak RSS MiB",13}  timings s");
        foreach (var precision in precisions)
        {
            var dtype = precision == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32;
            vae.To(CPU, dtype);
            using var z = torch.randn(batch, config.EmbedDim, latent, latent, dtype: dtype);
            using var image = torch.rand(batch, config.InChannels, side, side, dtype: dtype).mul_(2).sub_(1);
            var operations = new List<(string, Func<Tensor>)> { ("decode", () => vae.Decode(z)) };
            if (encode) operations.Add(("encode", () => vae.EncodeToLatent(image)));
            foreach (var (name, op) in operations)
            {
                var c = Measure(name, precision, batch, latent, side, runs, op);
                cases.Add(c);
                Console.WriteLine($"{c.Operation,-7} {c.Precision,-5} {c.Batch,5} {c.LatentSide,7} {c.ImageSide,6} {c.MedianSeconds,9:F2} {c.PeakRssMiB,13:F0}  {string.Join(", ", c.TimingsSeconds.Select(t => t.ToString("F2")))}");
            }
        }
        Console.WriteLine($"load average after: {BenchSupport.LoadAverage()}");

        var report = new
        {
            suite = "diffusion-vae",
            utc = DateTime.UtcNow,
            cpu = new { model = cpu.ModelName, cores = cpu.LogicalCores, flags = cpu.RelevantFlags, bf16 = cpu.HasFastBf16 },
            torch_threads = torch.get_num_threads(),
            load_average = BenchSupport.LoadAverage(),
            architecture = config.ToString(),
            parameters,
            method = $"1 warm-up, median of {runs}; random weights; eval mode; inference_mode; peak RSS over the timed runs, weights included",
            cases,
        };
        BenchSupport.WriteReport(output, report);
        return 0;
    }

    static Case Measure(string operation, string precision, int batch, int latent, int side, int runs, Func<Tensor> op)
    {
        Tensor Once()
        {
            using var mode = torch.inference_mode();
            return op();
        }
        Once().Dispose();
        BenchSupport.ResetPeakRss();
        var timings = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            Once().Dispose();
            timings[i] = sw.Elapsed.TotalSeconds;
        }
        return new Case(operation, precision, batch, latent, side, timings.Order().ElementAt(runs / 2), timings, BenchSupport.PeakRssMiB());
    }
}
