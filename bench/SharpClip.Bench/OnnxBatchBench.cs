using System.Diagnostics;
using SharpClip.Modeling;
using SharpClip.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Bench;

/// <summary>
/// Which batch size the ONNX engine runs a tower best at: one session per tower (chunking off, so each size is one ONNX
/// Runtime run), the sizes taken in turn round by round (2 warm-up rounds, then --runs), and per size the median wall
/// time per item and the median process CPU time per item (what a shared machine's load changes least). The engine's
/// default chunk sizes (<see cref="OnnxEngineOptions.DefaultChunk"/>) come from this table.
/// Usage: <c>onnx-batches [--rows vit-image,vit-text,rn50-image] [--batches 1,2,4,8,16,32,64] [--runs 5]
/// [--caption-tokens 16] [--spinning off|on]</c>; vit-text measures all 77 positions ("text-full") and captions of up to
/// --caption-tokens tokens ("text", each batch trimmed as the engine trims it).
/// </summary>
public static class OnnxBatchBench
{
    public static int Run(string[] args)
    {
        string Option(string name, string fallback) => BenchSupport.Option(args, name, fallback);
        var rows = Option("--rows", "vit-image,vit-text,rn50-image").Split(',');
        var batches = Option("--batches", "1,2,4,8,16,32,64").Split(',').Select(int.Parse).ToArray();
        int runs = BenchSupport.IntOption(args, "--runs", 5);
        int captionTokens = BenchSupport.IntOption(args, "--caption-tokens", 16);
        bool spinning = Option("--spinning", "off") == "on";
        Console.WriteLine($"ONNX Runtime {Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString()}; threads {torch.get_num_threads()}; " +
                          $"spinning {(spinning ? "on" : "off")}; batches {string.Join(",", batches)}; {runs} timed rounds; load average {BenchSupport.LoadAverage()}");

        foreach (var (name, tower, _) in OnnxBench.Plan(rows))
        {
            torch.manual_seed(0);
            using var model = new ClipModel(ClipPresets.Get(name));
            model.eval();
            using var onnx = new OnnxClipEncoder(model, new OnnxEngineOptions { AllowSpinning = spinning, ImageChunk = int.MaxValue, TextChunk = int.MaxValue });
            var inputs = batches.Select(b => OnnxBench.Input(model.Config, tower, b, captionTokens)).ToArray();
            try
            {
                var wall = batches.Select(_ => new List<double>()).ToArray();
                var cpu = batches.Select(_ => new List<double>()).ToArray();
                for (int round = 0; round < 2 + runs; round++)
                    for (int i = 0; i < batches.Length; i++)
                    {
                        var (w, c) = Time(() => OnnxBench.Embed(onnx, tower, inputs[i]));
                        if (round < 2) continue;
                        wall[i].Add(w / batches[i]);
                        cpu[i].Add(c / batches[i]);
                    }
                Console.WriteLine($"\n== {name} {tower} (load average {BenchSupport.LoadAverage()})");
                Console.WriteLine($"{"batch",5} {"ms/item",9} {"items/s",9} {"CPU ms/item",12}  CPU ms/item per round");
                for (int i = 0; i < batches.Length; i++)
                {
                    double w = Median(wall[i]), c = Median(cpu[i]);
                    Console.WriteLine($"{batches[i],5} {w,9:F2} {1000 / w,9:F2} {c,12:F2}  {string.Join(" ", cpu[i].Select(v => v.ToString("F1")))}");
                }
            }
            finally
            {
                foreach (var input in inputs) input.Dispose();
            }
        }
        Console.WriteLine($"\nload average after: {BenchSupport.LoadAverage()}");
        return 0;
    }

    static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>Wall and process CPU milliseconds of one call.</summary>
    static (double Wall, double Cpu) Time(Func<Tensor> run)
    {
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        run().Dispose();
        var wall = sw.Elapsed.TotalMilliseconds;
        process.Refresh();
        return (wall, (process.TotalProcessorTime - cpu).TotalMilliseconds);
    }
}
