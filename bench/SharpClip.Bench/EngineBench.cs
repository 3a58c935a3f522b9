using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using SharpClip.Managed;
using SharpClip.Modeling;
using SharpClip.Onnx;
using SharpClip.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace SharpClip.Bench;

/// <summary>
/// Issue 14's table: every engine SharpClip has against ONNX Runtime running openai/CLIP's own exported graph (the
/// bar), on the same random weights, in one process, contender after contender within each run (so a change in the
/// machine's load falls on all of them).
/// Usage: <c>engines [--reference DIR] [--rows vit-image,vit-text,vit-caption,rn50-image] [--batches 1,8] [--runs 7]
/// [--engines managed,onnx,torch] [--neighbour] [--out FILE]</c> (--batches runs every row set at those batch sizes instead; batch-1 rows run
/// 4 × --runs). DIR holds openai_vit_image.onnx, openai_vit_text.onnx and
/// openai_rn50_image.onnx exported by openai/CLIP's code (<c>bench/SharpClip.Bench/reference/export_openai_clip_onnx.py</c>);
/// they run with ONNX Runtime's default session options and 2 threads, as a .NET user would run them. Without them
/// the table has SharpClip's engines only.
/// </summary>
public static class EngineBench
{
    sealed record Row(string Model, string Tower, int Batch, string ReferenceFile, bool Trim);

    public static int Run(string[] args)
    {
        string Option(string name, string fallback) => BenchSupport.Option(args, name, fallback);
        var reference = Option("--reference", "");
        var rows = Option("--rows", "vit-image,vit-text,vit-caption,rn50-image").Split(',');
        var engines = BenchSupport.Names(Option("--engines", "managed,onnx"), "--engines", ["managed", "onnx", "torch"]).ToArray();
        int runs = BenchSupport.IntOption(args, "--runs", 7);
        int threads = torch.get_num_threads();
        var output = Option("--out", Path.Combine("artifacts", "bench", $"engines-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json"));
        var results = new List<object>();
        string loadBefore = BenchSupport.LoadAverage();
        using var neighbour = args.Contains("--neighbour") ? OnnxBench.BusyNeighbour.Start() : null;
        var cpu = CpuFeatures.Current;
        // /proc/cpuinfo lists the CPU's flags even where bench/hide-avx512/run hides AVX-512 from this process's CPUID.
        string isa = SharpClip.Managed.MatrixKernel.HasAvx512 ? "AVX-512 in use" : "no AVX-512 seen by this process";
        Console.WriteLine($"{cpu.ModelName}, {cpu.LogicalCores} cores; flags {string.Join(" ", cpu.RelevantFlags)} ({isa}; managed kernel {SharpClip.Managed.MatrixKernel.Width}); threads {threads}; " +
                          $"ONNX Runtime {OrtEnv.Instance().GetVersionString()}; median of {runs} runs ({BatchOneRuns(runs)} at batch 1) after 2 warm-ups; load average {BenchSupport.LoadAverage()}" +
                          (neighbour is null ? "" : $"; one busy process beside (pid {neighbour.Pid})"));
        Console.WriteLine("openai = ONNX Runtime on openai/CLIP's exported graph (default session options): the bar. Items per second; ratio = engine / openai.");
        Console.WriteLine($"{"model",-9} {"input",-22} {"batch",5} {string.Join(" ", engines.Select(e => $"{e,9}"))} {"openai",9} {string.Join(" ", engines.Select(e => $"{e + "/bar",11}"))}");

        var batches = Option("--batches", "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToHashSet();
        foreach (var group in Rows(rows, batches).GroupBy(r => r.Model))
        {
            torch.manual_seed(0);
            using var model = new ClipModel(ClipPresets.Get(group.Key));
            model.eval();
            using var managed = engines.Contains("managed") && ManagedClipEncoder.CanRun(model, out _) ? new ManagedClipEncoder(model) : null;
            using var onnx = engines.Contains("onnx") ? new OnnxClipEncoder(model) : null;
            var sessions = new Dictionary<string, InferenceSession>();
            try
            {
                foreach (var row in group)
                {
                    using var input = OnnxBench.Input(model.Config, row.Tower == "image" ? "image" : row.Trim ? "text" : "text-full", row.Batch, 16);
                    var path = Path.Combine(reference, row.ReferenceFile);
                    InferenceSession? bar = null;
                    if (reference.Length > 0 && File.Exists(path) && !sessions.TryGetValue(path, out bar))
                        sessions[path] = bar = new InferenceSession(path, new SessionOptions { IntraOpNumThreads = threads });
                    var contenders = new List<(string Name, Action Run)>();
                    foreach (var engine in engines)
                    {
                        IClipEncoder? encoder = engine switch { "managed" => managed, "onnx" => onnx, _ => model };
                        if (encoder is not null) contenders.Add((engine, () => Embed(encoder, input, row)));
                    }
                    if (bar is not null) contenders.Add(("openai", () => RunSession(bar, input, row.Tower == "image")));
                    var medians = Time(contenders, row.Batch == 1 ? BatchOneRuns(runs) : runs);
                    string Rate(string name) => medians.TryGetValue(name, out var ms) ? $"{row.Batch / (ms / 1000),9:F2}" : $"{"-",9}";
                    string Ratio(string name) => medians.TryGetValue(name, out var ms) && medians.TryGetValue("openai", out var barMs) ? $"{barMs / ms,11:F2}" : $"{"-",11}";
                    var what = row.Tower == "image" ? "images" : row.Trim ? "captions ≤16 (trimmed)" : "texts, all 77 positions";
                    Console.WriteLine($"{row.Model,-9} {what,-22} {row.Batch,5} {string.Join(" ", engines.Select(Rate))} {Rate("openai")} {string.Join(" ", engines.Select(Ratio))}");
                    results.Add(new { row.Model, Input = what, row.Batch, ItemsPerSecond = medians.ToDictionary(kv => kv.Key, kv => row.Batch / (kv.Value / 1000)) });
                }
            }
            finally
            {
                foreach (var s in sessions.Values) s.Dispose();
            }
        }
        Console.WriteLine($"load average after: {BenchSupport.LoadAverage()}");
        BenchSupport.WriteReport(output, new
        {
            Cpu = cpu.ModelName, Flags = cpu.RelevantFlags.ToArray(), Threads = threads, Runs = runs, RunsAtBatchOne = BatchOneRuns(runs), Neighbour = neighbour is not null,
            LoadBefore = loadBefore, LoadAfter = BenchSupport.LoadAverage(), Rows = results,
        });
        return 0;
    }

    /// <summary>Each row set at the issue's batch sizes, or at <paramref name="batches"/> when given (any sizes: how the
    /// rate grows with the batch is what chooses a tower's chunk).</summary>
    static IEnumerable<Row> Rows(string[] names, IReadOnlySet<int> batches)
    {
        int[] Sizes(params int[] standard) => batches.Count == 0 ? standard : [.. batches.Order()];
        foreach (var name in names)
            switch (name)
            {
                case "vit-image":
                    foreach (int b in Sizes(1, 8, 32)) yield return new("ViT-B/32", "image", b, "openai_vit_image.onnx", false);
                    break;
                case "vit-text":
                    foreach (int b in Sizes(1, 64)) yield return new("ViT-B/32", "text", b, "openai_vit_text.onnx", false);
                    break;
                case "vit-caption":
                    foreach (int b in Sizes(1, 64)) yield return new("ViT-B/32", "text", b, "openai_vit_text.onnx", true);
                    break;
                case "rn50-image":
                    foreach (int b in Sizes(1, 8)) yield return new("RN50", "image", b, "openai_rn50_image.onnx", false);
                    break;
                default: throw new ArgumentException($"--rows {name}: expected vit-image, vit-text, vit-caption or rn50-image");
            }
    }

    /// <summary>An engine as users call it: all 77 positions computed for the full-length rows, padding trimmed for captions.</summary>
    static void Embed(IClipEncoder encoder, Tensor input, Row row)
    {
        using var features = row.Tower == "image" ? encoder.EmbedImages(input, normalize: false) : encoder.EmbedTexts(input, normalize: false, trimPadding: row.Trim);
    }

    const int PauseMs = 50;

    /// <summary>Runs of a batch-1 row: one image or caption per run is a few milliseconds, so its median over the
    /// default 7–9 runs moved by ±15 % between runs minutes apart (RN50: 0.83–1.16 of the bar over one day).</summary>
    static int BatchOneRuns(int runs) => 4 * runs;

    /// <summary>Median wall milliseconds per contender, the contenders taking turns within each run.</summary>
    static Dictionary<string, double> Time(List<(string Name, Action Run)> contenders, int runs)
    {
        var times = contenders.ToDictionary(c => c.Name, _ => new List<double>());
        for (int i = 0; i < 2 + runs; i++)
            foreach (var (name, run) in contenders)
            {
                var sw = Stopwatch.StartNew();
                run();
                if (i >= 2) times[name].Add(sw.Elapsed.TotalMilliseconds);
                // ONNX Runtime's default thread pool spins for a while after a run; the pause keeps that spinning off the
                // next contender's cores (without it the managed engine ran texts at batch 1 at 23/s here, 41/s alone).
                Thread.Sleep(PauseMs);
            }
        return times.ToDictionary(kv => kv.Key, kv => kv.Value.Order().ElementAt(kv.Value.Count / 2));
    }

    static unsafe void RunSession(InferenceSession session, Tensor input, bool image)
    {
        var bytes = input.bytes;
        var address = (IntPtr)Unsafe.AsPointer(ref MemoryMarshal.GetReference(bytes));
        using var value = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance,
            image ? TensorElementType.Float : TensorElementType.Int64, input.shape, address, bytes.Length);
        using var run = new RunOptions();
        using var outputs = session.Run(run, [session.InputNames[0]], [value], [session.OutputNames[0]]);
    }
}
