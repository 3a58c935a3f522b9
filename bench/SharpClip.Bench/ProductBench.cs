using System.Diagnostics;
using SharpClip.Managed;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Bench;

/// <summary>
/// The managed engine's matrix product alone, on ViT-B/32's four per-layer shapes, with each micro-kernel this CPU runs
/// (AVX-512's and AVX2's) alternated run by run: median milliseconds and GFLOP/s (2 × multiply-adds / time), the
/// weights read from memory as in a model (copies run in turn). What the engine's speed is made of, per kernel.
/// Usage: <c>products [--rows 400] [--runs 15] [--threads N] [--kernels avx512,avx2]</c> (400 rows: 8 images of 50
/// tokens; 616: 8 texts of 77).
/// </summary>
public static class ProductBench
{
    sealed record Shape(string Name, int Inner, int Outer, bool Residual, OutputActivation Activation);

    static readonly Shape[] Shapes =
    [
        new("attn.in (qkv)", 768, 2304, false, OutputActivation.None), new("attn.out", 768, 768, true, OutputActivation.None),
        new("mlp.fc (gelu)", 768, 3072, false, OutputActivation.QuickGelu), new("mlp.proj", 3072, 768, true, OutputActivation.None),
        // The same product without its activation: what QuickGELU costs, read off the same run.
        new("mlp.fc (none)", 768, 3072, false, OutputActivation.None),
    ];

    public static unsafe int Run(string[] args)
    {
        int rows = BenchSupport.IntOption(args, "--rows", 400), runs = BenchSupport.IntOption(args, "--runs", 15);
        int threads = BenchSupport.IntOption(args, "--threads", torch.get_num_threads());
        var asked = BenchSupport.Names(BenchSupport.Option(args, "--kernels", "avx512,avx2"), "--kernels", ["avx512", "avx2"]);
        bool hasAvx512 = MatrixKernel.HasAvx512;
        var kernels = asked.Select(n => Enum.Parse<KernelWidth>(n, ignoreCase: true)).Where(k => k != KernelWidth.Avx512 || hasAvx512).ToList();
        if (!MatrixKernel.IsSupported || kernels.Count == 0) throw new ArgumentException("--kernels: none of them runs on this CPU");
        Console.WriteLine($"ViT-B/32's products, {rows} rows, {threads} threads, median of {runs} alternated runs; load average {BenchSupport.LoadAverage()}" +
                          (hasAvx512 ? "" : "; no AVX-512 seen by this process") + ". ms (GFLOP/s) per kernel.");
        Console.WriteLine($"{"product",-14} {"inner→outer",-11} {string.Join(" ", kernels.Select(k => $"{k.ToString().ToLowerInvariant(),16}"))}");
        var original = MatrixKernel.Width;
        torch.manual_seed(0);
        foreach (var shape in Shapes)
        {
            using var scope = torch.NewDisposeScope();
            var weight = torch.randn(shape.Outer, shape.Inner) / Math.Sqrt(shape.Inner);
            var bias = torch.randn(shape.Outer) * 0.1;
            long weightBytes = 4L * shape.Inner * shape.Outer;
            int copies = (int)Math.Clamp((64L << 20) / weightBytes + 1, 1, 256);
            var matrices = Enumerable.Range(0, copies).Select(_ => PackedMatrix.FromLinear(weight, bias)).ToList();
            // Rows padded as the model pads them (ManagedTransformer.Stride), so the figures are the model's products.
            int ldx = ManagedTransformer.Stride(shape.Inner), ldy = ManagedTransformer.Stride(shape.Outer);
            using var x = AlignedBuffer.Zeroed((long)rows * ldx);
            using var y = AlignedBuffer.Zeroed((long)rows * ldy);
            var random = new Random(1);
            for (long i = 0; i < x.Length; i++) x.Data[i] = (float)(random.NextDouble() - 0.5);
            var ms = kernels.ToDictionary(k => k, _ => new List<double>());
            int turn = 0;
            try
            {
                for (int run = -2; run < runs; run++)
                    foreach (var kernel in kernels)
                    {
                        MatrixKernel.Width = kernel;
                        var sw = Stopwatch.StartNew();
                        MatrixKernel.Multiply(x.Data, rows, ldx, matrices[turn++ % copies], y.Data, ldy, 0, shape.Outer,
                            shape.Residual, shape.Activation, threads);
                        if (run >= 0) ms[kernel].Add(sw.Elapsed.TotalMilliseconds);
                    }
            }
            finally
            {
                MatrixKernel.Width = original;
                foreach (var m in matrices) m.Dispose();
            }
            double flops = 2.0 * rows * shape.Inner * shape.Outer;
            Console.WriteLine($"{shape.Name,-14} {$"{shape.Inner}→{shape.Outer}",-11} " + string.Join(" ", kernels.Select(k =>
            {
                double median = ms[k].Order().ElementAt(ms[k].Count / 2);
                return $"{$"{median:F3} ({flops / median / 1e6:F0})",16}";
            })));
        }
        Console.WriteLine($"load average after: {BenchSupport.LoadAverage()}");
        return 0;
    }
}
