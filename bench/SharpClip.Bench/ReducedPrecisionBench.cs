using System.Diagnostics;
using SharpClip.Modeling;
using SharpClip.Onnx;
using SharpClip.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Bench;

/// <summary>
/// The reduced-precision paths against ONNX Runtime float32 running the same graph writer's float32 graph (issue 14's
/// "≥ 2× ONNX Runtime fp32" goal): <c>onnx --compare int8</c> runs the int8 graph (<see cref="OnnxQuantization.DynamicInt8"/>)
/// on ONNX Runtime, <c>onnx --compare bf16</c> libtorch in bfloat16 (ONNX Runtime has no bf16 matrix kernels on x86).
/// Same weights, same inputs, contenders alternated run by run; 2 warm-ups, median of 5. Each row prints the speed
/// ratio and the accuracy cost: the lowest cosine between a row's reduced-precision and float32 features. After each
/// model's quiet rows one batch is measured again beside a busy process (the issue's "competing load"), and the row
/// says how much of its quiet speed each contender kept. The load average is printed with every row. A ResNet's int8
/// graph has int8 convolutions calibrated on <c>--calibrate N</c> random images (16; 0 leaves them float32, the
/// attention pool's linear layers int8 alone), drawn apart from the timed inputs but from the same distribution.
/// </summary>
internal static class ReducedPrecisionBench
{
    const int WarmUps = 2;
    const int TimedRuns = 5;

    sealed record Row(string Model, string Tower, int Batch, string Load, double Fp32PerSecond, double ReducedPerSecond,
        double MinCosine, double[] Fp32Ms, double[] ReducedMs, string LoadAverage)
    {
        public double Ratio => ReducedPerSecond / Fp32PerSecond;
    }

    public static int Run(string[] args, string compare)
    {
        string Option(string name, string fallback) => BenchSupport.Option(args, name, fallback);
        if (compare is not ("int8" or "bf16")) throw new ArgumentException($"--compare {compare}: expected torch, int8 or bf16");
        var rows = Option("--rows", "vit-image,vit-text,rn50-image").Split(',');
        int captionTokens = BenchSupport.IntOption(args, "--caption-tokens", 16);
        int loadedBatch = BenchSupport.IntOption(args, "--loaded-batch", 8);
        bool spinning = Option("--spinning", "off") == "on";
        int threads = BenchSupport.IntOption(args, "--threads", torch.get_num_threads());
        int calibrate = BenchSupport.IntOption(args, "--calibrate", 16);
        torch.set_num_threads(threads);
        var output = Option("--out", Path.Combine("artifacts", "bench", $"onnx-{compare}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json"));
        var cpu = CpuFeatures.Current;
        string reducedName = compare == "int8" ? "onnx-int8" : "torch-bf16";

        Console.WriteLine($"ONNX Runtime float32 (the graph SharpClip writes) vs {reducedName} " +
                          (compare == "int8"
                              ? "(ONNX Runtime, the same graph with int8 linear layers: weights per output channel, activations per call)."
                              : "(libtorch with the model in bfloat16)."));
        Console.WriteLine($"CPU: {cpu.ModelName}, {cpu.LogicalCores} logical cores; flags: {string.Join(" ", cpu.RelevantFlags)}; " +
                          $"int8 dot product: {(cpu.HasInt8DotProduct ? "yes (full int8 weight range)" : "no (7-bit weights)")}");
        Console.WriteLine($"threads {threads}; onnx spinning {(spinning ? "on" : "off")}; ONNX Runtime {Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString()}; " +
                          $"caption tokens (trimmed rows) ≤ {captionTokens}; busy-neighbour rows at batch {loadedBatch}; " +
                          $"ResNet int8 convolutions: {(calibrate > 0 ? $"calibrated on {calibrate} random images" : "float32 (--calibrate 0)")}");
        Console.WriteLine($"{"model",-9} {"tower",-9} {"batch",5} {"load",-6} {"fp32/s",8} {reducedName + "/s",14} {"ratio",6} {"min cos",8}  {"loadavg",-16}");
        var results = new List<Row>();
        void Print(Row r) => Console.WriteLine($"{r.Model,-9} {r.Tower,-9} {r.Batch,5} {r.Load,-6} {r.Fp32PerSecond,8:F2} {r.ReducedPerSecond,14:F2} " +
                                               $"{r.Ratio,6:F2} {r.MinCosine,8:F5}  {r.LoadAverage,-16}");

        foreach (var (name, tower, batches) in OnnxBench.Plan(rows))
        {
            torch.manual_seed(0);
            using var model = new ClipModel(ClipPresets.Get(name));
            model.eval();
            using var fp32 = new OnnxClipEncoder(model, new OnnxEngineOptions { IntraOpThreads = threads, AllowSpinning = spinning });
            var reduced = Reduced(model, compare, threads, spinning, calibrate);
            using var ownedReduced = (IDisposable)reduced;
            var sw = Stopwatch.StartNew();
            using (var probe = OnnxBench.Input(model.Config, tower, 1, captionTokens))
            {
                OnnxBench.Embed(fp32, tower, probe).Dispose();
                OnnxBench.Embed(reduced, tower, probe).Dispose();
            }
            Console.WriteLine($"  {name} {tower}: both contenders built in {sw.Elapsed.TotalSeconds:F1} s");
            var quiet = new Dictionary<int, Row>();
            foreach (int batch in batches)
            {
                var row = Measure(fp32, reduced, name, tower, batch, captionTokens, "quiet");
                quiet[batch] = row;
                results.Add(row);
                Print(row);
            }
            if (!quiet.TryGetValue(loadedBatch, out var reference)) continue;
            using (var neighbour = OnnxBench.BusyNeighbour.Start())
            {
                Thread.Sleep(1000); // let the scheduler see it
                var loaded = Measure(fp32, reduced, name, tower, loadedBatch, captionTokens, "busy");
                results.Add(loaded);
                Print(loaded);
                Console.WriteLine($"  beside one busy process: fp32 kept {loaded.Fp32PerSecond / reference.Fp32PerSecond:P0} of its quiet speed, " +
                                  $"{reducedName} {loaded.ReducedPerSecond / reference.ReducedPerSecond:P0}");
            }
        }

        var report = new
        {
            suite = "onnx",
            compare = reducedName,
            utc = DateTime.UtcNow,
            cpu = new { model = cpu.ModelName, cores = cpu.LogicalCores, flags = cpu.RelevantFlags, int8_dot_product = cpu.HasInt8DotProduct },
            threads,
            onnx_spinning = spinning,
            caption_tokens = captionTokens,
            resnet_calibration_images = calibrate,
            method = $"random weights at the preset architectures; contenders alternated run by run; {WarmUps} warm-ups, median of {TimedRuns}; " +
                     "fp32 = ONNX Runtime running the float32 graph SharpClip writes; min_cosine = lowest cosine between a row's features of the two",
            rows = results,
        };
        BenchSupport.WriteReport(output, report);
        return 0;
    }

    /// <summary>The reduced-precision contender (disposed by the caller): the int8 graph on ONNX Runtime, or a bfloat16
    /// copy of the model on libtorch.</summary>
    static IClipEncoder Reduced(ClipModel model, string compare, int threads, bool spinning, int calibrate)
    {
        if (compare == "int8")
            return new OnnxClipEncoder(model, new OnnxEngineOptions
            {
                IntraOpThreads = threads, AllowSpinning = spinning, Quantization = OnnxQuantization.DynamicInt8,
                Calibration = model.Config.IsVisionTransformer || calibrate == 0 ? null : Calibrate(model, calibrate),
            });
        var copy = ClipModel.FromStateDict(model.state_dict(), $"{model.Source} (bf16 copy)", model.Config, requireFinite: false);
        copy.To(CPU, ScalarType.BFloat16);
        return copy;
    }

    /// <summary>A ResNet's activation ranges over <paramref name="images"/> random images from their own seed.</summary>
    internal static ActivationRanges Calibrate(ClipModel model, int images)
    {
        using var generator = new torch.Generator(1234);
        int r = model.Config.ImageResolution;
        using var pixels = torch.randn(images, 3, r, r, generator: generator);
        var sw = Stopwatch.StartNew();
        var ranges = ActivationRanges.Measure(model, pixels);
        Console.WriteLine($"  calibrated {ranges.Ranges.Count} activation ranges on {images} random images in {sw.Elapsed.TotalSeconds:F1} s");
        return ranges;
    }

    static Row Measure(IClipEncoder fp32, IClipEncoder reduced, string name, string tower, int batch, int captionTokens, string load)
    {
        using var input = OnnxBench.Input(fp32.Config, tower, batch, captionTokens);
        var (minCosine, fp32Ms, reducedMs) = BenchSupport.Alternate(() => OnnxBench.Embed(fp32, tower, input), () => OnnxBench.Embed(reduced, tower, input),
            (a, b) => torch.nn.functional.cosine_similarity(a, b.to(ScalarType.Float32), 1).min().item<float>(), WarmUps, TimedRuns);
        return new Row(name, tower, batch, load, BenchSupport.PerSecond(batch, fp32Ms), BenchSupport.PerSecond(batch, reducedMs), minCosine,
            fp32Ms, reducedMs, BenchSupport.LoadAverage());
    }
}
