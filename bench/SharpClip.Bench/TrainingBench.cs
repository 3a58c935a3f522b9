using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SharpClip.Data;
using SharpClip.Demos.Synthetic;
using SharpClip.Evaluation;
using SharpClip.Modeling;
using SharpClip.Runtime;
using SharpClip.Text;
using SharpClip.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Bench;

/// <summary>
/// Training throughput of the reference benchmark's tiny ViT, <c>CLIP(64, 32, 2, 128, 8, 77, 49408, 128, 2, 2)</c> at
/// 32×32, batch 64, one full step (zero grads, forward + backward through <see cref="ContrastiveStep"/>, gradient
/// clipping, AdamW, temperature clamp) on fixed random images and short tokenised captions: the whole batch in one
/// pass, with 4×16 gradient-cache accumulation, with activation checkpointing, in bf16 where the CPU has it, and with
/// the text padding kept (the reference's work: all 77 positions). Each variant: 2 warm-up steps, then the median of
/// N timed steps; wall and process-CPU time; peak RSS (VmHWM) of a fresh process per variant. Then a longer run
/// of the tiny preset on the synthetic shapes with its loss and zero-shot curve.
/// Usage: <c>dotnet run -c Release --project bench/SharpClip.Bench -- training [--steps N] [--curve-steps N | --no-curve] [--json FILE]</c>
/// </summary>
public static class TrainingBench
{
    /// <summary>PyTorch 1.13 + OpenBLAS (OpenMP), same shape and batch: ../shared/notes/baseline.md, table A.</summary>
    const double ReferenceSamplesPerSecond = 426.25;

    public static int Run(string[] args)
    {
        int steps = BenchSupport.IntOption(args, "--steps", 5);
        int curveSteps = args.Contains("--no-curve") ? 0 : BenchSupport.IntOption(args, "--curve-steps", 600);
        string json = BenchSupport.Option(args, "--json", Path.Combine("artifacts", "bench", "training.json"));
        var cpu = CpuFeatures.Current;
        Console.WriteLine($"training: {cpu.ModelName}, {cpu.LogicalCores} logical cores, flags: {string.Join(" ", cpu.RelevantFlags)}; torch threads {torch.get_num_threads()}; load average {BenchSupport.LoadAverage1Min()}");

        var config = TrainingPresets.Tiny;
        var (pixels, ids, captionSource) = Inputs(config, 64);
        Console.WriteLine($"  model {config}; {captionSource}");
        var variants = new List<(string Name, ContrastiveStepOptions Options)>
        {
            ("batch 64, one pass", new ContrastiveStepOptions()),
            ("batch 64 as 4x16 (gradient cache)", new ContrastiveStepOptions { MicroBatchSize = 16 }),
            ("batch 64, activation checkpointing", new ContrastiveStepOptions { ActivationCheckpointing = true }),
            ("batch 64 as 4x16 + checkpointing", new ContrastiveStepOptions { MicroBatchSize = 16, ActivationCheckpointing = true }),
            ("batch 64, one pass, all 77 text positions (reference's work)", new ContrastiveStepOptions { TrimTextPadding = false }),
            ("batch 64 as 4x16, all 77 text positions", new ContrastiveStepOptions { MicroBatchSize = 16, TrimTextPadding = false }),
        };
        if (cpu.HasFastBf16) variants.Add(("batch 64, bf16 compute (fp32 master)", new ContrastiveStepOptions { ComputeType = ScalarType.BFloat16 }));
        else Console.WriteLine("  (no avx512_bf16/amx_bf16: bf16 variant skipped)");

        // Child mode: measure one variant and print its figures as one JSON line (the parent runs each variant in a fresh
        // process so that its peak RSS is its own and no allocator state carries over).
        if (BenchSupport.IntOption(args, "--variant", -1) is >= 0 and var only)
        {
            var m = Measure(config, variants[only].Options, pixels, ids, steps);
            Console.WriteLine("RESULT " + JsonSerializer.Serialize(new[] { m.Median, m.Min, m.CpuMs, m.PeakRssMiB }.Concat(m.All)));
            return 0;
        }

        Console.WriteLine($"  {"variant",-62} {"samples/s",10} {"median ms",10} {"min ms",8} {"CPU ms",8} {"peak RSS",9}");
        var rows = new List<object>();
        for (int v = 0; v < variants.Count; v++)
        {
            var name = variants[v].Name;
            var figures = RunChild(v, steps);
            double median = figures[0], min = figures[1], cpuMs = figures[2], rssMiB = figures[3];
            var all = figures.Skip(4).ToList();
            double rate = 64 / (median / 1000);
            Console.WriteLine($"  {name,-62} {rate,10:F1} {median,10:F1} {min,8:F1} {cpuMs,8:F1} {rssMiB,6:F0} MiB");
            rows.Add(new
            {
                variant = name, samples_per_s = Math.Round(rate, 1), median_ms = Math.Round(median, 1), min_ms = Math.Round(min, 1),
                cpu_ms_per_step = Math.Round(cpuMs, 1), peak_rss_mib = Math.Round(rssMiB), step_ms = all.Select(t => Math.Round(t, 1)).ToArray(),
            });
        }
        Console.WriteLine($"  {"reference: PyTorch 1.13 + OpenBLAS, tiny ViT train step, batch 64 (baseline.md A)",-62} {ReferenceSamplesPerSecond,10:F1} {"150.1",10}");
        Console.WriteLine("  (the reference ran on a quiet host; compare on the same machine state. Its text tower computes all 77 positions.)");

        object? curve = curveSteps > 0 ? Curve(curveSteps) : null;
        var report = new
        {
            suite = "training",
            cpu = cpu.ModelName, cores = cpu.LogicalCores, flags = cpu.RelevantFlags.ToArray(), torch_threads = torch.get_num_threads(),
            load_average_1min = BenchSupport.LoadAverage1Min(), model = config.ToString(), batch = 64, captions = captionSource,
            reference_samples_per_s = ReferenceSamplesPerSecond, variants = rows, curve,
            timestamp_utc = DateTime.UtcNow.ToString("o"),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(json))!);
        File.WriteAllText(json, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"  wrote {json}");
        return 0;
    }

    // Normal random images and short real captions (OpenAI's vocabulary when found, else ids of the same lengths).
    static (Tensor Pixels, Tensor Ids, string Source) Inputs(ClipConfig config, int n)
    {
        var pixels = torch.randn([n, 3, config.ImageResolution, config.ImageResolution], generator: new torch.Generator(0)).DetachFromDisposeScope();
        var captions = new SyntheticShapes(new SyntheticShapesOptions { TrainCount = n }).Split(SyntheticSplit.Train)
            .ReadAll().Select(s => s.Captions[0]).ToList();
        string? vocab = ClipTokenizer.FindDefaultVocab() ?? FindSharedVocab();
        if (vocab is not null)
        {
            var tokenizer = ClipTokenizer.Load(vocab);
            return (pixels, tokenizer.Tokenize(captions, config.ContextLength, truncate: true).DetachFromDisposeScope(),
                $"captions: {n} synthetic-shape captions tokenised with {Path.GetFileName(vocab)}");
        }
        var rng = new Random(0);
        var ids = new long[n * config.ContextLength];
        for (int i = 0; i < n; i++)
        {
            int end = rng.Next(6, 16);
            ids[i * config.ContextLength] = 49406;
            for (int t = 1; t < end; t++) ids[i * config.ContextLength + t] = rng.Next(1, 49406);
            ids[i * config.ContextLength + end] = 49407;
        }
        return (pixels, torch.tensor(ids, [n, config.ContextLength]).DetachFromDisposeScope(), "captions: random ids, 6-16 tokens (no vocabulary found)");
    }

    static string? FindSharedVocab()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var p = Path.Combine(dir.FullName, "shared", "vocab", ClipTokenizer.OpenAiVocabFileName);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    static double[] RunChild(int variant, int steps)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "training", "--variant", variant.ToString(CultureInfo.InvariantCulture), "--steps", steps.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") start.ArgumentList.Insert(0, typeof(TrainingBench).Assembly.Location);
        using var child = Process.Start(start)!;
        string? result = null;
        while (child.StandardOutput.ReadLine() is { } line)
            if (line.StartsWith("RESULT ", StringComparison.Ordinal)) result = line[7..];
        child.WaitForExit();
        if (child.ExitCode != 0 || result is null) throw new InvalidOperationException($"variant {variant} failed (exit code {child.ExitCode})");
        return JsonSerializer.Deserialize<double[]>(result)!;
    }

    static (double Median, double Min, double CpuMs, List<double> All, double PeakRssMiB) Measure(ClipConfig config, ContrastiveStepOptions options,
        Tensor pixels, Tensor ids, int steps)
    {
        torch.manual_seed(0);
        using var model = new ClipModel(config);
        using var objective = ContrastiveObjective.Create(ObjectiveKind.Clip);
        using var step = new ContrastiveStep(model, objective, options);
        var (decay, noDecay) = WeightDecayRule.Split(step.TrainableParameters);
        using var adam = new AdamWOptimizer([new ParameterGroup("decay", decay, 0.2), new ParameterGroup("no_decay", noDecay, 0)]);
        var times = new List<double>();
        TimeSpan cpu = TimeSpan.Zero;
        for (int i = 0; i < steps + 2; i++)
        {
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            using (var scope = torch.NewDisposeScope())
            {
                adam.ZeroGrad();
                step.Run(pixels, ids);
                torch.nn.utils.clip_grad_norm_(adam.Parameters, 1.0);
                adam.Step(1e-4);
                ContrastiveObjective.ClampLogitScale(model.LogitScale);
            }
            if (i < 2) continue;
            times.Add(sw.Elapsed.TotalMilliseconds);
            cpu += Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        }
        var sorted = times.Order().ToList();
        return (sorted[sorted.Count / 2], sorted[0], cpu.TotalMilliseconds / steps, times, BenchSupport.PeakRssMiB());
    }

    // The longer run: the tiny preset on the synthetic shapes, evaluated along the way.
    static object Curve(int steps)
    {
        var dir = Directory.CreateTempSubdirectory("sharpclip-bench-train-").FullName;
        try
        {
            var config = new TrainingConfig
            {
                Output = Path.Combine(dir, "run"), Model = "tiny", ContextLength = 24,
                DataOptions = SyntheticShapesSpec.Options(new SyntheticShapesOptions { ImageSize = 32, Supersampling = 2 }),
                BatchSize = 64, Steps = steps, WarmupSteps = Math.Min(100, steps / 10), LearningRate = 1e-3,
                EvalEvery = Math.Max(1, steps / 6), EvalSamples = 1000, SaveEvery = 0, Seed = 1,
            };
            Console.WriteLine($"  curve: tiny preset (context 24, learned vocabulary) on synthetic shapes 32x32, batch 64, {steps} steps, lr 1e-3 warm-up+cosine");
            var sw = Stopwatch.StartNew();
            var points = new List<object>();
            var losses = new List<double>();
            double trainRate = 0;
            Console.WriteLine($"  {"step",6} {"loss",7} {"held-out c×s",12} {"colour",7} {"shape",7} {"c×s all",8} {"i→t R@1",8} {"t→i R@1",8} {"i→t R@5",8} {"t→i R@5",8} {"time",7}");
            var result = Trainer.Run(config, new Reporter(e =>
            {
                if (e is StepFinished { Metrics: var s }) { losses.Add(s.Loss); trainRate = s.SamplesPerSecond; }
                if (e is not EvaluationFinished p) return;
                var m = p.Metrics;
                double recent = losses.Skip(Math.Max(0, losses.Count - 20)).Average();
                Console.WriteLine($"  {p.Step,6} {recent,7:F3} {m["zero_shot/held_out_colour_shape"],12:F3} {m["zero_shot/colour"],7:F3} {m["zero_shot/shape"],7:F3} {m["zero_shot/colour_shape"],8:F3} " +
                    $"{m["retrieval/image_to_text_r1"],8:F3} {m["retrieval/text_to_image_r1"],8:F3} {m["retrieval/image_to_text_r5"],8:F3} {m["retrieval/text_to_image_r5"],8:F3} {sw.Elapsed.TotalSeconds,6:F0}s");
                points.Add(new { step = p.Step, loss_last20 = Math.Round(recent, 4), metrics = m.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 4)) });
            }), evaluation: TrainingEvaluator.Create);
            var dataset = new SyntheticShapes(SyntheticShapesSpec.SettingsIn(config.DataOptions));
            Console.WriteLine($"  chance: held-out colour×shape {dataset.HeldOutColourShapeTask.Chance:F3}, colour {dataset.ColourTask.Chance:F3}, shape {dataset.ShapeTask.Chance:F3}; " +
                $"{result.Position.Step} steps in {sw.Elapsed.TotalSeconds:F0} s ({trainRate:F0} pairs/s at the end)");
            return new { steps, seconds = Math.Round(sw.Elapsed.TotalSeconds, 1), points, loss = losses.Select(l => Math.Round(l, 4)).ToArray() };
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    sealed class Reporter(Action<TrainingEvent> report) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => report(value);
    }




}
