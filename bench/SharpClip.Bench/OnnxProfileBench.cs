using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using SharpClip.Modeling;
using SharpClip.Onnx;
using TorchSharp;
using static TorchSharp.torch;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace SharpClip.Bench;

/// <summary>
/// Where ONNX Runtime spends its time on the graphs SharpClip writes, node type by node type, and — when given the
/// files that <c>reference/export_openai_clip_onnx.py</c> writes from openai/CLIP's model.py with PyTorch's exporter —
/// the same for openai's own graph, timed against SharpClip's run by run on this machine (the issue's bar, measured here
/// instead of quoted). Each session also saves its optimised graph, whose node types say which fusions ORT applied.
/// Usage: <c>onnx-profile [--rows vit-image,vit-text,rn50-image] [--reference DIR] [--out DIR] [--runs 5]
/// [--level all|extended|basic] [--variants engine,standard,fused,skipln+fused,int8] [--spinning off|on] [--batch N]
/// [--config key=value,key=value] [--save on|off] [--neighbour]</c>: --neighbour runs one busy process beside the bench
/// (the issue's competing load; the quiet figures to compare with come from a run without it). A variant is "engine" (the graph the engine runs by default), "standard" (standard
/// operators only, as exported files) or "+"-joined ONNX Runtime operators on top of it (fused: com.microsoft Attention;
/// skipln: SkipLayerNormalization; int8 alone: the int8 graph, a ResNet's convolutions calibrated on random images; cfg:key=value: a session configuration entry of that contender's session alone);
/// --batch replaces every row's batch size; --config adds session configuration entries
/// (e.g. session.set_denormal_as_zero=1) to every session, openai's included.
/// </summary>
public static class OnnxProfileBench
{
    sealed record Case(string Model, string Tower, int Batch, string ReferenceFile);

    public static int Run(string[] args)
    {
        string Option(string name, string fallback) => BenchSupport.Option(args, name, fallback);
        var rows = Option("--rows", "vit-image,vit-text,rn50-image").Split(',');
        var reference = Option("--reference", "");
        var outDir = Path.GetFullPath(Option("--out", Path.Combine("artifacts", "bench", $"onnx-profile-{DateTime.UtcNow:yyyyMMdd-HHmmss}")));
        int runs = BenchSupport.IntOption(args, "--runs", 5);
        var variants = Option("--variants", "engine").Split(',');
        bool spinning = Option("--spinning", "off") == "on";
        int batchOverride = BenchSupport.IntOption(args, "--batch", 0);
        bool save = Option("--save", "on") == "on";
        var config = Option("--config", "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('=', 2)).Select(kv => (Key: kv[0], Value: kv.Length > 1 ? kv[1] : "")).ToArray();
        var level = Option("--level", "all") switch
        {
            "all" => GraphOptimizationLevel.ORT_ENABLE_ALL,
            "extended" => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "basic" => GraphOptimizationLevel.ORT_ENABLE_BASIC,
            var other => throw new ArgumentException($"--level {other}: expected all, extended or basic"),
        };
        Directory.CreateDirectory(outDir);
        using var neighbour = args.Contains("--neighbour") ? OnnxBench.BusyNeighbour.Start() : null;
        if (neighbour is not null) Console.WriteLine($"competing load: one busy process (pid {neighbour.Pid}) beside the bench");
        Console.WriteLine($"ONNX Runtime {OrtEnv.Instance().GetVersionString()}; level {level}; threads {torch.get_num_threads()}; spinning {(spinning ? "on" : "off")}; " +
                          $"variants {string.Join(",", variants)}; {runs} timed runs; config {(config.Length == 0 ? "-" : string.Join(",", config.Select(c => $"{c.Key}={c.Value}")))}; " +
                          $"load average {BenchSupport.LoadAverage()}");

        foreach (var c in Cases(rows).Select(k => batchOverride > 0 ? k with { Batch = batchOverride } : k).Distinct())
        {
            torch.manual_seed(0);
            using var model = new ClipModel(ClipPresets.Get(c.Model));
            model.eval();
            var tag = $"{c.Model.Replace("/", "")}-{c.Tower}-b{c.Batch}";
            using var input = OnnxBench.Input(model.Config, c.Tower, c.Batch, 16);
            var contenders = variants.Select(v => (Name: v, Bytes: Graph(model, c.Tower, v).ToByteArray())).ToList();
            var referencePath = Path.Combine(reference, c.ReferenceFile);
            if (reference.Length > 0 && File.Exists(referencePath)) contenders.Add(("openai", File.ReadAllBytes(referencePath)));

            Console.WriteLine($"\n== {c.Model} {c.Tower} batch {c.Batch}");
            var timings = new Dictionary<string, List<double>>();
            var cpuTimes = new Dictionary<string, List<double>>();
            // a variant's cfg:key=value parts are session configuration entries of that contender alone
            (string, string)[] Own(string name) => name.Split('+').Where(p => p.StartsWith("cfg:", StringComparison.Ordinal))
                .Select(p => p[4..].Split('=', 2)).Select(kv => (kv[0], kv.Length > 1 ? kv[1] : "")).ToArray();
            var sessions = contenders.Select(k => (k.Name, Session: Open(k.Bytes, level, spinning, save, [.. config, .. Own(k.Name)],
                Path.Combine(outDir, $"{tag}-{k.Name.Replace(':', '_').Replace('=', '_')}")))).ToList();
            try
            {
                // alternate the contenders run by run: 2 warm-ups, then the timed runs
                for (int i = 0; i < 2 + runs; i++)
                    foreach (var (name, session) in sessions)
                    {
                        var (ms, cpuMs) = Time(session, input, c.Tower == "image");
                        if (i < 2) continue;
                        (timings.TryGetValue(name, out var l) ? l : timings[name] = []).Add(ms);
                        (cpuTimes.TryGetValue(name, out var lc) ? lc : cpuTimes[name] = []).Add(cpuMs);
                    }
                foreach (var (name, session) in sessions)
                {
                    var profile = session.EndProfiling();
                    var median = timings[name].Order().ElementAt(runs / 2);
                    var cpuMedian = cpuTimes[name].Order().ElementAt(runs / 2);
                    Console.WriteLine($"-- {name}: median {median:F1} ms = {c.Batch / (median / 1000):F2}/s (runs {string.Join(" ", timings[name].Select(t => t.ToString("F0")))}); " +
                                      $"CPU time median {cpuMedian:F1} ms (runs {string.Join(" ", cpuTimes[name].Select(t => t.ToString("F0")))})");
                    PrintProfile(profile, 2 + runs);
                    PrintOptimisedGraph(Path.Combine(outDir, $"{tag}-{name.Replace(':', '_').Replace('=', '_')}.optimized.onnx"));
                }
            }
            finally
            {
                foreach (var (_, session) in sessions) session.Dispose();
            }
        }
        Console.WriteLine($"\nload average after: {BenchSupport.LoadAverage()}; profiles and optimised graphs in {outDir}");
        return 0;
    }

    /// <summary>The graph SharpClip writes for <paramref name="tower"/> in the named way of writing it.</summary>
    static global::Onnx.ModelProto Graph(ClipModel model, string tower, string variant)
    {
        if (variant == "int8") // the int8 graph; a ResNet's convolutions calibrated on random images
            return tower == "image"
                ? ClipOnnxGraphs.ImageTower(model, quantization: OnnxQuantization.DynamicInt8,
                    calibration: model.Config.IsVisionTransformer ? null : ReducedPrecisionBench.Calibrate(model, 16))
                : ClipOnnxGraphs.TextTower(model, quantization: OnnxQuantization.DynamicInt8);
        var engine = new OnnxEngineOptions();
        bool attention = false, residualNorm = false;
        foreach (var part in variant.Split('+'))
            switch (part)
            {
                case "engine": (attention, residualNorm) = (engine.FusedAttention, engine.FusedResidualNorm); break;
                case "standard": break;
                case "fused": attention = true; break;
                case "skipln": residualNorm = true; break;
                case var c when c.StartsWith("cfg:", StringComparison.Ordinal): break; // a session entry (see Run)
                default: throw new ArgumentException($"--variants {variant}: expected engine, standard, or fused/skipln joined by +");
            }
        return tower == "image"
            ? ClipOnnxGraphs.ImageTower(model, attention, contribResidualNorm: residualNorm)
            : ClipOnnxGraphs.TextTower(model, attention, contribResidualNorm: residualNorm);
    }

    static IEnumerable<Case> Cases(string[] rows)
    {
        foreach (var row in rows)
            switch (row)
            {
                case "vit-image": yield return new("ViT-B/32", "image", 8, "openai_vit_image.onnx"); break;
                case "vit-text":
                    yield return new("ViT-B/32", "text-full", 1, "openai_vit_text.onnx");
                    yield return new("ViT-B/32", "text-full", 64, "openai_vit_text.onnx");
                    break;
                case "rn50-image": yield return new("RN50", "image", 8, "openai_rn50_image.onnx"); break;
                default: throw new ArgumentException($"--rows {row}: expected vit-image, vit-text or rn50-image");
            }
    }

    static InferenceSession Open(byte[] graph, GraphOptimizationLevel level, bool spinning, bool save, (string Key, string Value)[] config, string stem)
    {
        using var so = new SessionOptions
        {
            GraphOptimizationLevel = level,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = torch.get_num_threads(),
            InterOpNumThreads = 1,
            ProfileOutputPathPrefix = stem, // before EnableProfiling, which hands ONNX Runtime the prefix set so far
            EnableProfiling = true,
        };
        if (save) so.OptimizedModelFilePath = stem + ".optimized.onnx";
        var entries = new Dictionary<string, string> { ["session.intra_op.allow_spinning"] = spinning ? "1" : "0" };
        foreach (var (key, value) in config) entries[key] = value; // later entries win
        foreach (var (key, value) in entries) so.AddSessionConfigEntry(key, value);
        return new InferenceSession(graph, so);
    }

    /// <summary>One run, the session's own input and output names (both graphs have one of each): wall and process CPU
    /// milliseconds (CPU time is what a loaded machine changes least: the work done, not the waits for a core).</summary>
    static unsafe (double Wall, double Cpu) Time(InferenceSession session, Tensor input, bool image)
    {
        var inputName = session.InputNames[0];
        var outputName = session.OutputNames[0];
        var bytes = input.bytes;
        var address = (IntPtr)Unsafe.AsPointer(ref MemoryMarshal.GetReference(bytes));
        using var value = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance,
            image ? TensorElementType.Float : TensorElementType.Int64, input.shape, address, bytes.Length);
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        using (var outputs = session.Run(new RunOptions(), [inputName], [value], [outputName])) { }
        var wall = sw.Elapsed.TotalMilliseconds;
        process.Refresh();
        return (wall, (process.TotalProcessorTime - cpu).TotalMilliseconds);
    }

    /// <summary>Kernel time per node type, per run (warm-ups included in the average: the first runs are slower).</summary>
    static void PrintProfile(string path, int calls)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var perOp = new Dictionary<string, (double Us, int Count)>();
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            if (e.GetProperty("cat").GetString() != "Node") continue;
            if (!e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
            var op = e.GetProperty("args").GetProperty("op_name").GetString()!;
            var (us, n) = perOp.GetValueOrDefault(op);
            perOp[op] = (us + e.GetProperty("dur").GetDouble(), n + 1);
        }
        double total = perOp.Values.Sum(v => v.Us);
        Console.WriteLine($"   kernel time per run {total / calls / 1000:F1} ms:");
        foreach (var (op, (us, n)) in perOp.OrderByDescending(kv => kv.Value.Us))
            Console.WriteLine($"   {op,-28} {us / calls / 1000,8:F2} ms {100 * us / total,5:F1}%  nodes/run {n / calls}");
    }

    static void PrintOptimisedGraph(string path)
    {
        if (!File.Exists(path)) return;
        var model = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var ops = model.Graph.Node.GroupBy(n => (n.Domain.Length > 0 ? n.Domain + ":" : "") + n.OpType)
            .OrderByDescending(grp => grp.Count()).Select(grp => $"{grp.Key}×{grp.Count()}");
        Console.WriteLine($"   optimised graph: {string.Join(", ", ops)}");
    }
}
