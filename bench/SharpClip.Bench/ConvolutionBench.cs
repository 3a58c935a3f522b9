using System.Diagnostics;
using SharpClip.Managed;
using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Bench;

/// <summary>
/// The managed engine's convolution paths side by side on RN50's shapes (the stem's three 3×3, each stage's 3×3 and 1×1), so
/// the engine's choice between them (<see cref="FoldedConvolution"/>'s Winograd threshold, Winograd's split across
/// threads) rests on figures: every path of a shape alternated run by run, median milliseconds and the
/// GFLOP/s-equivalent of the direct sum (2 × multiply-adds of the direct convolution / time), the weights read from
/// memory as in a model (copies run in turn).
/// Usage: <c>convolutions [--batch 1] [--runs 15] [--threads N] [--only stem.conv2,layer1,…] [--paths auto,direct] [--pause MS]</c> (--pause sleeps before
/// each run: the cost of starting cold, as a model's first convolution after an idle spell does).
/// </summary>
public static class ConvolutionBench
{
    sealed record Shape(string Name, int In, int Out, int Side, int Stride, int Kernel = 3);

    static readonly Shape[] Shapes =
    [
        new("stem.conv1", 3, 32, 224, 2), new("stem.conv2", 32, 32, 112, 1), new("stem.conv3", 32, 64, 112, 1),
        new("layer1", 64, 64, 56, 1), new("layer2.0", 128, 128, 56, 1), new("layer2", 128, 128, 28, 1),
        new("layer3.0", 256, 256, 28, 1), new("layer3", 256, 256, 14, 1), new("layer4.0", 512, 512, 14, 1),
        new("layer4", 512, 512, 7, 1),
        new("l1.0.reduce", 64, 64, 56, 1, 1), new("l1.expand", 64, 256, 56, 1, 1), new("l1.reduce", 256, 64, 56, 1, 1),
        new("l2.0.reduce", 256, 128, 56, 1, 1), new("l2.expand", 128, 512, 28, 1, 1), new("l2.0.short", 256, 512, 28, 1, 1),
        new("l2.reduce", 512, 128, 28, 1, 1), new("l3.0.reduce", 512, 256, 28, 1, 1), new("l3.expand", 256, 1024, 14, 1, 1),
        new("l3.0.short", 512, 1024, 14, 1, 1), new("l3.reduce", 1024, 256, 14, 1, 1), new("l4.0.reduce", 1024, 512, 14, 1, 1),
        new("l4.expand", 512, 2048, 7, 1, 1), new("l4.0.short", 1024, 2048, 7, 1, 1), new("l4.reduce", 2048, 512, 7, 1, 1),
    ];

    static readonly ConvolutionPath[] Paths = [ConvolutionPath.Auto, ConvolutionPath.Direct, ConvolutionPath.WinogradOwnTiles, ConvolutionPath.WinogradSharedColumns, ConvolutionPath.Winograd4];

    public static unsafe int Run(string[] args)
    {
        int batch = BenchSupport.IntOption(args, "--batch", 1), runs = BenchSupport.IntOption(args, "--runs", 15);
        int threads = BenchSupport.IntOption(args, "--threads", torch.get_num_threads());
        var only = BenchSupport.Names(BenchSupport.Option(args, "--only", ""), "--only", Shapes.Select(s => s.Name));
        int pause = BenchSupport.IntOption(args, "--pause", 0);
        var onlyPaths = BenchSupport.Names(BenchSupport.Option(args, "--paths", ""), "--paths", Paths.Select(Label));
        Console.WriteLine($"RN50's convolutions + BatchNorm + ReLU, batch {batch}, {threads} threads, median of {runs} alternated runs; " +
                          $"load average {BenchSupport.LoadAverage()}. ms (GFLOP/s-equivalent of the direct sum); auto = the engine's choice.");
        Console.WriteLine($"{"shape",-10} {"in→out",-9} {"kernel, map",10} {string.Join(" ", Paths.Select(p => $"{Label(p),18}"))}");
        torch.manual_seed(0);
        foreach (var shape in Shapes.Where(s => only.Count == 0 || only.Contains(s.Name)))
        {
            using var scope = torch.NewDisposeScope();
            var state = new Dictionary<string, Tensor>
            {
                ["c.weight"] = torch.randn(shape.Out, shape.In, shape.Kernel, shape.Kernel) * (1.0 / Math.Sqrt(shape.Kernel * shape.Kernel * shape.In)),
                ["n.weight"] = torch.rand(shape.Out) + 0.5, ["n.bias"] = torch.randn(shape.Out) * 0.1,
                ["n.running_mean"] = torch.randn(shape.Out) * 0.1, ["n.running_var"] = torch.rand(shape.Out) + 0.5,
            };
            // Copies of the convolution, run in turn, hold ≥ 64 MiB of weights between them: in a model each convolution's
            // weights come from memory, not from a cache that the last run of the same convolution left them in.
            long weightBytes = 4L * shape.Kernel * shape.Kernel * shape.In * shape.Out;
            int copies = (int)Math.Clamp((64L << 20) / weightBytes + 1, 1, 256);
            var convs = Enumerable.Range(0, copies).Select(_ =>
                new FoldedConvolution(new TowerWeights(state, _ => true, "bench", "the managed engine"), "c", "n", shape.Stride, padding: shape.Kernel / 2,
                    winograd4: shape.Side % 4 == 0)).ToList();
            var conv = convs[0];
            int turn = 0;
            int side = conv.OutputSide(shape.Side);
            using var input = AlignedBuffer.Zeroed((long)batch * shape.Side * shape.Side * InputStride(shape.In));
            using var output = AlignedBuffer.Zeroed((long)batch * side * side * FeatureMap.Stride(shape.Out));
            var random = new Random(1);
            for (long i = 0; i < input.Length; i++) input.Data[i] = (float)(random.NextDouble() - 0.5);
            var x = new FeatureMap(input.Data, batch, shape.Side, shape.Side, shape.In, InputStride(shape.In));
            var y = new FeatureMap(output.Data, batch, side, side, shape.Out, FeatureMap.Stride(shape.Out));
            var paths = Paths.Where(p => CanRun(conv, p) && (onlyPaths.Count == 0 || onlyPaths.Contains(Label(p)))).ToList();
            var ms = paths.ToDictionary(p => p, _ => new List<double>());
            for (int run = -2; run < runs; run++)
                foreach (var path in paths)
                {
                    if (pause > 0) Thread.Sleep(pause);
                    var sw = Stopwatch.StartNew();
                    convs[turn++ % copies].Apply(x, y, false, OutputActivation.Relu, threads, path);
                    if (run >= 0) ms[path].Add(sw.Elapsed.TotalMilliseconds);
                }
            double flops = 2.0 * batch * side * side * shape.Kernel * shape.Kernel * shape.In * shape.Out;
            foreach (var c in convs) c.Dispose();
            Console.WriteLine($"{shape.Name,-10} {$"{shape.In}→{shape.Out}",-9} {$"{shape.Kernel}×{shape.Kernel} {shape.Side}²",10} " + string.Join(" ", Paths.Select(p =>
            {
                if (!ms.TryGetValue(p, out var times)) return $"{"-",18}";
                double median = times.Order().ElementAt(times.Count / 2);
                return $"{$"{median:F3} ({flops / median / 1e6:F0})",18}";
            })));
        }
        Console.WriteLine($"load average after: {BenchSupport.LoadAverage()}");
        return 0;
    }

    static bool CanRun(FoldedConvolution conv, ConvolutionPath path) => path switch
    {
        ConvolutionPath.Auto or ConvolutionPath.Direct => true,
        ConvolutionPath.Winograd4 => conv.HasWinograd4,
        _ => conv.HasWinograd,
    };

    /// <summary>The image's 3 channels are packed (as the tower's stem lays them out), feature maps padded rows.</summary>
    static int InputStride(int channels) => channels == 3 ? 3 : FeatureMap.Stride(channels);

    static string Label(ConvolutionPath path) => path switch
    {
        ConvolutionPath.Auto => "auto",
        ConvolutionPath.Direct => "direct",
        ConvolutionPath.WinogradOwnTiles => "winograd own tiles",
        ConvolutionPath.WinogradSharedColumns => "winograd shared",
        ConvolutionPath.Winograd4 => "winograd 4×4",
        _ => path.ToString(),
    };
}
