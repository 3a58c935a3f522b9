using System.Diagnostics;
using SharpClip.Modeling;
using SharpClip.Onnx;
using SharpClip.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Bench;

/// <summary>
/// SharpClip's two engines on the same weights in one process: libtorch (<see cref="ClipModel"/>) against ONNX Runtime
/// running the graph SharpClip writes from those weights (<see cref="OnnxClipEncoder"/>). Random weights at the real
/// architectures (ClipPresets). Rows: ViT-B/32 images b1/8/32, texts b1/64 with all 77 positions ("text-full") and
/// trimmed after the batch's last end token ("text", captions of up to --caption-tokens tokens), RN50 images b1/8.
/// The contenders alternate run by run within each row (torch, onnx, torch, onnx, ...): 2 warm-ups each, median of 5.
/// The "bar" column is issue 14's ONNX Runtime 1.31 figure for openai/CLIP's own exported graph on the same kind of
/// machine; <c>onnx-profile --reference DIR</c> (<see cref="OnnxProfileBench"/>) measures that graph here, exported by
/// reference/export_openai_clip_onnx.py with Debian's PyTorch.
/// Usage: <c>onnx [--rows vit-image,vit-text,rn50-image] [--caption-tokens 16] [--spinning off|on] [--neighbour]
/// [--attention standard|fused] [--threads N] [--out FILE]</c>; --neighbour runs one busy process beside the bench (the issue's "competing load").
/// <c>--compare int8|bf16</c> measures a reduced-precision path against ONNX Runtime float32 instead
/// (<see cref="ReducedPrecisionBench"/>); <c>--agreement MODEL</c> measures its zero-shot agreement with float32 on the
/// emoji styles (<see cref="ZeroShotAgreementBench"/>).
/// </summary>
public static class OnnxBench
{
    const int WarmUps = 2;
    const int TimedRuns = 5;

    sealed record Row(string Model, string Tower, int Batch, double TorchPerSecond, double OnnxPerSecond, double? Bar,
        double[] TorchMs, double[] OnnxMs, double MaxAbsDiff);

    // issue 14's ONNX Runtime figures (openai/CLIP's exported graph, fp32, 2 threads, quiet machine).
    static readonly Dictionary<(string, string, int), double> Bars = new()
    {
        [("ViT-B/32", "image", 1)] = 25.1, [("ViT-B/32", "image", 8)] = 33.2, [("ViT-B/32", "image", 32)] = 33.5,
        [("ViT-B/32", "text-full", 1)] = 38.7, [("ViT-B/32", "text-full", 64)] = 53.3, [("RN50", "image", 8)] = 32.7,
    };

    public static int Run(string[] args)
    {
        string Option(string name, string fallback) => BenchSupport.Option(args, name, fallback);
        var compare = Option("--compare", "torch");
        if (Option("--agreement", "") is { Length: > 0 } trained) return ZeroShotAgreementBench.Run(args, trained);
        if (compare != "torch") return ReducedPrecisionBench.Run(args, compare);
        var rows = Option("--rows", "vit-image,vit-text,rn50-image").Split(',');
        int captionTokens = BenchSupport.IntOption(args, "--caption-tokens", 16);
        bool spinning = Option("--spinning", "off") == "on";
        bool fused = Option("--attention", "standard") == "fused";
        int threads = BenchSupport.IntOption(args, "--threads", torch.get_num_threads());
        torch.set_num_threads(threads);
        var output = Option("--out", Path.Combine("artifacts", "bench", $"onnx-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json"));
        var cpu = CpuFeatures.Current;

        Console.WriteLine("SharpClip-torch (libtorch) vs SharpClip-onnx (ONNX Runtime running the graph SharpClip writes from the same weights).");
        Console.WriteLine("The bar column is issue 14's ONNX Runtime figure on openai/CLIP's own exported graph (measured here: onnx-profile --reference).");
        Console.WriteLine($"CPU: {cpu.ModelName}, {cpu.LogicalCores} logical cores; flags: {string.Join(" ", cpu.RelevantFlags)}");
        Console.WriteLine($"threads: torch {torch.get_num_threads()}, onnx intra-op {threads}; onnx spinning {(spinning ? "on" : "off")}; attention {(fused ? "com.microsoft Attention" : "standard ops")}; " +
                          $"ONNX Runtime {Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString()}; caption tokens (trimmed rows) ≤ {captionTokens}");
        using var neighbour = args.Contains("--neighbour") ? BusyNeighbour.Start() : null;
        if (neighbour is not null) Console.WriteLine($"competing load: one busy process (pid {neighbour.Pid}) beside the bench");
        Console.WriteLine($"load average before: {BenchSupport.LoadAverage()}");

        var results = new List<Row>();
        Console.WriteLine($"{"model",-9} {"tower",-9} {"batch",5} {"torch/s",9} {"onnx/s",9} {"onnx/torch",10} {"bar/s",7} {"onnx/bar",8}  {"max|Δ|",8}");
        void Print(Row r) => Console.WriteLine($"{r.Model,-9} {r.Tower,-9} {r.Batch,5} {r.TorchPerSecond,9:F2} {r.OnnxPerSecond,9:F2} " +
            $"{r.OnnxPerSecond / r.TorchPerSecond,10:F2} {(r.Bar is { } b ? b.ToString("F1") : "-"),7} " +
            $"{(r.Bar is { } bar ? (r.OnnxPerSecond / bar).ToString("F2") : "-"),8}  {r.MaxAbsDiff,8:E1}");

        foreach (var (name, tower, batches) in Plan(rows))
        {
            torch.manual_seed(0);
            using var model = new ClipModel(ClipPresets.Get(name));
            model.eval();
            using var onnx = new OnnxClipEncoder(model, new OnnxEngineOptions { IntraOpThreads = threads, AllowSpinning = spinning, FusedAttention = fused });
            var sw = Stopwatch.StartNew();
            using (var probe = Input(model.Config, tower, 1, captionTokens)) Embed(onnx, tower, probe).Dispose();
            Console.WriteLine($"  {name} {(tower == "image" ? "image" : "text")} graph written and session built in {sw.Elapsed.TotalSeconds:F1} s");
            foreach (int batch in batches)
            {
                var row = Measure(model, onnx, name, tower, batch, captionTokens);
                results.Add(row);
                Print(row);
            }
        }
        Console.WriteLine($"load average after: {BenchSupport.LoadAverage()}");

        var report = new
        {
            suite = "onnx",
            utc = DateTime.UtcNow,
            cpu = new { model = cpu.ModelName, cores = cpu.LogicalCores, flags = cpu.RelevantFlags },
            torch_threads = torch.get_num_threads(),
            onnx_threads = threads,
            onnx_spinning = spinning,
            onnx_attention = fused ? "com.microsoft Attention" : "standard ops",
            competing_load = neighbour is not null,
            caption_tokens = captionTokens,
            method = $"random weights at the preset architectures; contenders alternated run by run; {WarmUps} warm-ups, median of {TimedRuns}; " +
                     "onnx = ONNX Runtime running the graph SharpClip writes; bar = issue 14's ONNX Runtime on openai/CLIP's exported graph",
            rows = results,
        };
        BenchSupport.WriteReport(output, report);
        return 0;
    }

    internal static IEnumerable<(string Model, string Tower, int[] Batches)> Plan(string[] rows)
    {
        foreach (var row in rows)
        {
            switch (row)
            {
                case "vit-image": yield return ("ViT-B/32", "image", [1, 8, 32]); break;
                case "vit-text":
                    yield return ("ViT-B/32", "text-full", [1, 64]);
                    yield return ("ViT-B/32", "text", [1, 64]);
                    break;
                case "rn50-image": yield return ("RN50", "image", [1, 8]); break;
                default: throw new ArgumentException($"--rows {row}: expected vit-image, vit-text or rn50-image");
            }
        }
    }

    static Row Measure(ClipModel model, OnnxClipEncoder onnx, string name, string tower, int batch, int captionTokens)
    {
        using var input = Input(model.Config, tower, batch, captionTokens);
        var (diff, torchMs, onnxMs) = BenchSupport.Alternate(() => Embed(model, tower, input), () => Embed(onnx, tower, input),
            (a, b) => (a - b).abs().max().item<float>(), WarmUps, TimedRuns);
        Bars.TryGetValue((name, tower, batch), out var bar);
        return new Row(name, tower, batch, BenchSupport.PerSecond(batch, torchMs), BenchSupport.PerSecond(batch, onnxMs),
            bar == 0 ? null : bar, torchMs, onnxMs, diff);
    }

    internal static Tensor Embed(IClipEncoder engine, string tower, Tensor input) => tower switch
    {
        "image" => engine.EmbedImages(input, normalize: false),
        "text" => engine.EmbedTexts(input, normalize: false),
        _ => engine.EmbedTexts(input, normalize: false, trimPadding: false),
    };

    internal static Tensor Input(ClipConfig config, string tower, int batch, int captionTokens)
    {
        if (tower == "image") return torch.randn(batch, 3, config.ImageResolution, config.ImageResolution);
        // Start token, random words, end token, zero padding: what clip.tokenize produces.
        var rng = new Random(batch);
        var ids = new long[batch, config.ContextLength];
        int longest = tower == "text" ? captionTokens : config.ContextLength - 1;
        for (int b = 0; b < batch; b++)
        {
            int length = rng.Next(Math.Min(4, longest), longest);
            ids[b, 0] = config.VocabSize - 2;
            for (int t = 1; t < length; t++) ids[b, t] = rng.Next(1, config.VocabSize - 2);
            ids[b, length] = config.VocabSize - 1;
        }
        return torch.tensor(ids);
    }

    /// <summary>One busy process beside the bench (a shell loop), ended by its pid when the bench ends.</summary>
    internal sealed class BusyNeighbour : IDisposable
    {
        readonly Process _process;

        BusyNeighbour(Process process) => _process = process;

        public int Pid => _process.Id;

        public static BusyNeighbour Start()
        {
            var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("while :; do :; done");
            return new BusyNeighbour(Process.Start(psi) ?? throw new InvalidOperationException("could not start the busy neighbour"));
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
        }
    }
}
