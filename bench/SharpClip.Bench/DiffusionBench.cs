using System.Diagnostics;
using SharpClip.Files;
using SharpClip.Generation.Diffusion;
using SharpClip.Generation.Diffusion.Autoencoder;
using SharpClip.Generation.Diffusion.Conditioning;
using SharpClip.Generation.Diffusion.UNet;
using SharpClip.Modeling;
using SharpClip.Runtime;
using SharpClip.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Bench;

/// <summary>
/// Stable Diffusion's speed and memory at SD 1.5's real size, four row sets:
/// <list type="bullet">
/// <item><c>build</c>: seconds and peak memory to construct SD 1.5's U-Net, autoencoder and text encoder as training
/// does (the reference's random initialisation) and as every loader does (<see cref="UninitializedWeights"/>: weights
/// allocated, not drawn, since the file overwrites them all).</item>
/// <item><c>unet</c>: the U-Net (model_channels 320, mult 1,2,4,4, 2 res blocks, attention at 4,2,1, 8 heads, context
/// 768; random weights) on a guided batch, [2, 4, 64, 64] latents + [2, 77, 768] text states: seconds per step (median
/// of N after a warm-up) in fp32 and, where the CPU has bf16 instructions, bf16 (the same module cast in place), with
/// the memory each phase held: building, casting, the forward. The cast starts after the allocator has returned the
/// memory the fp32 forward passes freed (GC + <c>malloc_trim</c>), so its peak is the weights' and the cast's.</item>
/// <item><c>e2e</c>: a 20-step 512×512 image through <see cref="StableDiffusionPipeline"/> (DDIM, guidance 7.5) from a
/// random SD 1.5 single-file <c>.safetensors</c> in the checkpoint's key layout, loaded by the user's loader, per
/// precision (bf16: cast in place after loading, as <c>generate --precision bf16</c> does): load, cast,
/// total, per-step and decode seconds, peak memory.</item>
/// <item><c>tiny</c>: images/s of a latent diffusion folder from <c>train-diffusion</c> (<c>--tiny MODEL</c>), batch 1
/// and 8, DDIM 50 steps, guidance 3, per precision.</item>
/// </list>
/// Memory is the process's resident set above what it held before the phase (its baseline), so the weights' share is
/// comparable to their size: "copies" is that peak over the weights' bytes, and anything near 2 means a second copy of
/// the weights was held (a state dict kept beside the module, the file's pages, fp32 and bf16 at once).
/// A U-Net step at this size is about 1 TFLOP (seconds on a few cores); the defaults are one warm-up and three runs.
/// Usage: <c>diffusion [--rows build,unet,e2e,tiny] [--precisions fp32,bf16] [--runs 3] [--out FILE] [--vocab BPE]
/// [--sd-file PATH] [--e2e-steps 20] [--tiny MODEL] [--prompt TEXT]</c>. <c>--e2e-steps</c> shortens the image's run
/// (a memory check on a busy machine: load and peak do not depend on it). <c>--sd-file</c> keeps the random checkpoint there (written
/// once, reused on the next run); without it a temporary one is written and deleted.
/// </summary>
public static class DiffusionBench
{
    /// <summary>
    /// A phase held a second copy of the weights when its peak, in weights, passes halfway from one copy to two: 1.5 for
    /// building or loading (2 = the state dict or the file's pages beside the module), 1.25 for the fp32 → bf16 cast
    /// (1.5 = the fp32 and bf16 modules at once). Below it is the runtime, tensors in flight and allocator slack.
    /// </summary>
    static double CopiesBar(double twoCopies) => (1 + twoCopies) / 2;

    const double MiB = 1024 * 1024;

    sealed record UNetCase(string Precision, double SecondsPerStep, double[] TimingsSeconds, double WeightsMiB, double ResidentBeforeMiB,
        double ForwardPeakMiB, double ActivationsMiB, double PhaseSeconds, double PhasePeakMiB, double PhaseCopies, bool OneCopy,
        double? KeptBeforeCastMiB, double? ResidentAtCastMiB);

    sealed record BuildCase(string Part, long Parameters, double WeightsMiB, double RandomInitSeconds, double RandomInitPeakMiB,
        double ForLoadingSeconds, double ForLoadingPeakMiB);

    sealed record EndToEnd(string Precision, double CastSeconds, int Steps, double Guidance, int ImageSide, double CheckpointGiB, double LoadSeconds, double LoadPeakMiB,
        double ResidentAfterLoadMiB, double WeightsMiB, double LoadCopies, bool OneCopy, double TotalSeconds, double SecondsPerStep,
        double[] StepSeconds, double DecodeSeconds, double GeneratePeakMiB, double ActivationsMiB);

    sealed record TinyCase(string Precision, int Batch, int Steps, double Guidance, int ImageSide, double MedianSeconds, double[] TimingsSeconds, double ImagesPerSecond);

    public static int Run(string[] args)
    {
        string Option(string name, string fallback) => BenchSupport.Option(args, name, fallback);
        var cpu = CpuFeatures.Current;
        var rows = Option("--rows", "build,unet,e2e,tiny").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var precisions = Option("--precisions", cpu.HasFastBf16 ? "fp32,bf16" : "fp32").Split(',', StringSplitOptions.TrimEntries);
        int runs = BenchSupport.IntOption(args, "--runs", 3);
        var output = Option("--out", Path.Combine("artifacts", "bench", $"diffusion-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json"));
        foreach (var row in rows.Where(r => r is not ("build" or "unet" or "e2e" or "tiny")))
            throw new ArgumentException($"--rows: unknown row set '{row}' (build, unet, e2e, tiny)");
        foreach (var p in precisions.Where(p => p is not ("fp32" or "bf16")))
            throw new ArgumentException($"--precisions: unknown precision '{p}' (fp32, bf16)");
        if (precisions.Contains("bf16") && !cpu.HasFastBf16)
            Console.WriteLine("note: this CPU has no bf16 instructions (avx512_bf16/amx_bf16); bf16 runs emulated and slow");

        string loadBefore = BenchSupport.LoadAverage();
        Console.WriteLine($"CPU: {cpu.ModelName}, {cpu.LogicalCores} logical cores; flags: {string.Join(" ", cpu.RelevantFlags)}");
        Console.WriteLine($"bf16 hardware support: {cpu.HasFastBf16}; torch threads: {torch.get_num_threads()}; load average before: {loadBefore}");

        var build = rows.Contains("build") ? BuildRows() : null;
        var unet = rows.Contains("unet") ? UNetRows(precisions, runs) : null;
        var e2e = rows.Contains("e2e") ? EndToEndRows(args, precisions) : null;
        var tiny = rows.Contains("tiny") ? TinyRows(args, precisions, runs) : null;

        string loadAfter = BenchSupport.LoadAverage();
        Console.WriteLine($"load average after: {loadAfter}");
        BenchSupport.WriteReport(output, new
        {
            suite = "diffusion",
            utc = DateTime.UtcNow,
            cpu = new { model = cpu.ModelName, cores = cpu.LogicalCores, flags = cpu.RelevantFlags, bf16 = cpu.HasFastBf16 },
            torch_threads = torch.get_num_threads(),
            load_average_before = loadBefore,
            load_average_after = loadAfter,
            unet_architecture = new UNetConfig().ToString(),
            method = $"1 warm-up, median of {runs}; random weights; eval mode; inference_mode; memory = resident set above the phase's baseline (VmRSS before, VmHWM during; freed memory returned to the system first); copies = phase peak / weights bytes, a second copy held if past halfway to two copies",
            build,
            unet,
            e2e,
            tiny,
        });
        return 0;
    }

    // SD 1.5's three parts built both ways, each from its own baseline: random initialisation (training's) and for loading.
    static List<BuildCase> BuildRows()
    {
        var parts = new (string Name, Func<nn.Module> Build)[]
        {
            ("U-Net", () => new UNetModel(new UNetConfig())),
            ("autoencoder", () => new AutoencoderKL(AutoencoderConfig.StableDiffusion)),
            ("text encoder", () => new ConditioningTextEncoder(new TextEncoderConfig())),
        };
        Console.WriteLine($"build: SD 1.5's parts, fp32, as training builds them (random init) and as a loader does (weights allocated, not drawn)");
        Console.WriteLine($"{"part",-13} {"M params",9} {"weights MiB",12} {"random init s",14} {"peak MiB",9} {"for loading s",14} {"peak MiB",9}");
        var cases = new List<BuildCase>();
        foreach (var (name, build) in parts)
        {
            torch.manual_seed(0);
            var (randomSeconds, randomPeak, parameters) = MeasureBuild(build);
            var (loadingSeconds, loadingPeak, _) = MeasureBuild(() => UninitializedWeights.Build(build));
            var c = new BuildCase(name, parameters, parameters * 4 / MiB, randomSeconds, randomPeak, loadingSeconds, loadingPeak);
            cases.Add(c);
            Console.WriteLine($"{name,-13} {parameters / 1e6,9:F1} {c.WeightsMiB,12:F0} {randomSeconds,14:F2} {randomPeak,9:F0} {loadingSeconds,14:F2} {loadingPeak,9:F0}");
        }
        Console.WriteLine($"{"all three",-13} {cases.Sum(b => b.Parameters) / 1e6,9:F1} {cases.Sum(b => b.WeightsMiB),12:F0} {cases.Sum(b => b.RandomInitSeconds),14:F2} {"",9} {cases.Sum(b => b.ForLoadingSeconds),14:F2}");
        Console.WriteLine("  (a model built for loading touches none of its pages: they become resident as the loader copies the file in, so a load's peak is the weights once either way)");
        return cases;
    }

    static (double Seconds, double PeakMiB, long Parameters) MeasureBuild(Func<nn.Module> build)
    {
        BenchSupport.ReleaseFreedMemory();
        double baseline = BenchSupport.RssMiB();
        BenchSupport.ResetPeakRss();
        var sw = Stopwatch.StartNew();
        using var model = build();
        double seconds = sw.Elapsed.TotalSeconds, peak = BenchSupport.PeakRssMiB() - baseline;
        return (seconds, peak, model.parameters().Sum(p => p.numel()));
    }

    // The SD 1.5 U-Net built once (fp32), timed, then cast in place to bf16 and timed again.
    static List<UNetCase> UNetRows(string[] precisions, int runs)
    {
        var config = new UNetConfig(); // SD 1.x's defaults: v1-inference.yaml's unet_config
        Console.WriteLine($"U-Net: {config}");
        BenchSupport.ReleaseFreedMemory();
        double baseline = BenchSupport.RssMiB();
        BenchSupport.ResetPeakRss();
        torch.manual_seed(0);
        var sw = Stopwatch.StartNew();
        using var unet = new UNetModel(config);
        double phaseSeconds = sw.Elapsed.TotalSeconds, phasePeak = BenchSupport.PeakRssMiB() - baseline;
        long parameters = unet.ParameterCount;
        Console.WriteLine($"{parameters / 1e6:F1} M parameters; built (random init) in {phaseSeconds:F1} s, peak {phasePeak:F0} MiB above the baseline of {baseline:F0} MiB");
        Console.WriteLine($"{"prec",-5} {"s/step",7} {"weights MiB",12} {"resident MiB",13} {"fwd peak MiB",13} {"activations",12} {"phase",-5} {"s",6} {"peak MiB",9} {"copies",7}  timings s");

        var cases = new List<UNetCase>();
        string phase = "build";
        double? keptBeforeCast = null, residentAtCast = null;
        foreach (var precision in precisions)
        {
            var dtype = precision == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32;
            if (unet.DType != dtype)
            {
                // The fp32 forward passes freed their activations into glibc's arenas, which keep the pages resident for
                // the next allocation rather than return them; those pages are not the weights, so hand them back first
                // (as before building), or the cast's peak counts them as a fraction of a second copy.
                keptBeforeCast = BenchSupport.RssMiB() - baseline;
                BenchSupport.ReleaseFreedMemory();
                residentAtCast = BenchSupport.RssMiB() - baseline;
                Console.WriteLine($"  before the cast: resident {keptBeforeCast:F0} MiB above the baseline, {residentAtCast:F0} MiB once freed memory is returned (GC + malloc_trim)");
                BenchSupport.ResetPeakRss();
                sw.Restart();
                unet.to(dtype);
                phaseSeconds = sw.Elapsed.TotalSeconds;
                phasePeak = BenchSupport.PeakRssMiB() - baseline;
                phase = "cast";
            }
            // The phase held one copy if its peak stayed within the larger of the weights before and after it.
            double before = phase == "cast" ? parameters * 4 / MiB : 0, weights = parameters * ElementSize(dtype) / MiB;
            double copies = phasePeak / Math.Max(before, weights), twoCopies = phase == "cast" ? 1 + weights / before : 2;

            using var x = torch.randn([2, config.InChannels, 64, 64], dtype: dtype);        // [2, 4, 64, 64] = [uncond, cond] latents
            using var t = torch.tensor(new long[] { 981, 981 });                              // [2] the first step of 20 DDIM steps
            using var context = torch.randn([2, 77, config.ContextDim], dtype: dtype);      // [2, 77, 768] text states
            Tensor Step()
            {
                using var mode = torch.inference_mode();
                return unet.forward(x, t, context);
            }
            Step().Dispose();
            double resident = BenchSupport.RssMiB() - baseline;
            BenchSupport.ResetPeakRss();
            var timings = new double[runs];
            for (int i = 0; i < runs; i++)
            {
                sw.Restart();
                Step().Dispose();
                timings[i] = sw.Elapsed.TotalSeconds;
            }
            double forwardPeak = BenchSupport.PeakRssMiB() - baseline;
            var c = new UNetCase(precision, Median(timings), timings, weights, resident, forwardPeak, forwardPeak - resident,
                phaseSeconds, phasePeak, copies, copies < CopiesBar(twoCopies), phase == "cast" ? keptBeforeCast : null, phase == "cast" ? residentAtCast : null);
            cases.Add(c);
            Console.WriteLine($"{precision,-5} {c.SecondsPerStep,7:F2} {weights,12:F0} {resident,13:F0} {forwardPeak,13:F0} {c.ActivationsMiB,12:F0} {phase,-5} {phaseSeconds,6:F1} {phasePeak,9:F0} {copies,7:F2}  {string.Join(", ", timings.Select(s => s.ToString("F2")))}");
            string added = phase == "cast" ? $" ({phasePeak - residentAtCast:F0} MiB above the resident set it started from)" : "";
            Console.WriteLine($"  check: {phase} peak {phasePeak:F0} MiB{added} = {copies:F2} × the weights (both copies at once would be {twoCopies:F2}): {(c.OneCopy ? "one copy" : "A SECOND COPY of the weights was held")}; " +
                              $"forward peak {forwardPeak:F0} MiB = resident {resident:F0} (weights {weights:F0}) + activations {c.ActivationsMiB:F0}");
        }
        return cases;
    }

    // Writes (or reuses) a random SD 1.5 single file; per precision, loads it as a user would (bf16: then casts in
    // place, as generate --precision bf16 does) and makes one 512×512 image.
    static List<EndToEnd> EndToEndRows(string[] args, string[] precisions)
    {
        var vocab = BenchSupport.Option(args, "--vocab", ClipTokenizer.FindDefaultVocab() ?? "");
        if (vocab.Length == 0 || !File.Exists(vocab))
            throw new FileNotFoundException($"e2e: no CLIP vocabulary (bpe_simple_vocab_16e6.txt.gz): give --vocab or set ${ClipTokenizer.VocabEnvironmentVariable}");
        var given = BenchSupport.Option(args, "--sd-file", "");
        var file = given.Length > 0 ? given : Path.Combine(Path.GetTempPath(), $"sharpclip-bench-sd15-{Environment.ProcessId}.safetensors");
        try
        {
            if (!File.Exists(file))
            {
                var sw0 = Stopwatch.StartNew();
                WriteRandomSd15(file);
                Console.WriteLine($"e2e: wrote a random SD 1.5 checkpoint ({new FileInfo(file).Length / (double)(1L << 30):F2} GiB) to {file} in {sw0.Elapsed.TotalSeconds:F0} s");
            }
            var tokenizer = ClipTokenizer.Load(vocab);
            return precisions.Select(p => EndToEndRow(args, file, tokenizer, p)).ToList();
        }
        finally
        {
            if (given.Length == 0) File.Delete(file);
        }
    }

    static EndToEnd EndToEndRow(string[] args, string file, ClipTokenizer tokenizer, string precision)
    {
        const int latentSide = 64;
        int steps = BenchSupport.IntOption(args, "--e2e-steps", 20);
        const double guidance = 7.5;
        BenchSupport.ReleaseFreedMemory();
        double baseline = BenchSupport.RssMiB();
        BenchSupport.ResetPeakRss();
        var sw = Stopwatch.StartNew();
        using var pipeline = StableDiffusionPipeline.Load(file, tokenizer);
        double loadSeconds = sw.Elapsed.TotalSeconds, loadPeak = BenchSupport.PeakRssMiB() - baseline;
        long parameters = pipeline.UNet.ParameterCount + pipeline.TextEncoder.parameters().Sum(p => p.numel()) + pipeline.Autoencoder.parameters().Sum(p => p.numel());
        double weights = parameters * 4 / MiB, copies = loadPeak / weights;
        double castSeconds = 0;
        if (precision == "bf16")
        {
            sw.Restart();
            pipeline.To(ScalarType.BFloat16);
            castSeconds = sw.Elapsed.TotalSeconds;
            BenchSupport.ReleaseFreedMemory();
        }
        double resident = BenchSupport.RssMiB() - baseline;
        Console.WriteLine($"e2e {precision}: loaded {parameters / 1e6:F0} M parameters ({weights:F0} MiB fp32) in {loadSeconds:F1} s; load peak {loadPeak:F0} MiB = {copies:F2} × the fp32 weights " +
                          $"({(copies < CopiesBar(2) ? "one copy" : "A SECOND COPY of the weights was held")}){(precision == "bf16" ? $"; cast to bf16 in {castSeconds:F1} s" : "")}; resident after {resident:F0} MiB");

        BenchSupport.ResetPeakRss();
        var stepEnds = new List<double>();
        sw.Restart();
        using var output = pipeline.Generate([BenchSupport.Option(args, "--prompt", "a photograph of an astronaut riding a horse")], new GenerationOptions
        {
            Steps = steps, GuidanceScale = guidance, Seed = 0, LatentHeight = latentSide, LatentWidth = latentSide,
            OnStep = _ => stepEnds.Add(sw.Elapsed.TotalSeconds),
        });
        double total = sw.Elapsed.TotalSeconds, generatePeak = BenchSupport.PeakRssMiB() - baseline;
        // Step i ends at stepEnds[i]; the first also holds the prompt encoding, so per-step is the median of the rest.
        var stepSeconds = stepEnds.Select((end, i) => i == 0 ? end : end - stepEnds[i - 1]).ToArray();
        double perStep = Median(stepSeconds[1..]), decode = total - stepEnds[^1];
        var result = new EndToEnd(precision, castSeconds, stepEnds.Count, guidance, latentSide * pipeline.DownsampleFactor, new FileInfo(file).Length / (double)(1L << 30),
            loadSeconds, loadPeak, resident, weights, copies, copies < CopiesBar(2), total, perStep, stepSeconds, decode, generatePeak, generatePeak - resident);
        Console.WriteLine($"e2e {precision}: {result.ImageSide}×{result.ImageSide}, {result.Steps} DDIM steps, guidance {guidance}: total {total:F1} s, {perStep:F2} s/step " +
                          $"(first step with the prompts {stepSeconds[0]:F2} s), decode {decode:F1} s; peak {generatePeak:F0} MiB = resident {resident:F0} + activations {result.ActivationsMiB:F0}");
        return result;
    }

    /// <summary>
    /// A random SD 1.5 checkpoint in the single-file layout: the U-Net and autoencoder modules' own initialisation under
    /// <c>model.diffusion_model.</c> and <c>first_stage_model.</c>, and a CLIP ViT-L/14 text tower under Hugging Face's
    /// names (N(0, 0.02²) weights, LayerNorms at 1 and 0) under <c>cond_stage_model.transformer.text_model.</c>.
    /// </summary>
    static void WriteRandomSd15(string path)
    {
        torch.manual_seed(0);
        using var scope = torch.NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var unet = new UNetModel(new UNetConfig());
        foreach (var (key, value) in unet.state_dict()) tensors[StableDiffusionCheckpoint.UNetPrefix + key] = value.detach();
        using var vae = new AutoencoderKL(AutoencoderConfig.StableDiffusion);
        foreach (var (key, value) in vae.state_dict()) tensors[StableDiffusionCheckpoint.AutoencoderPrefix + key] = value.detach();
        foreach (var (key, shape) in new TextEncoderConfig().HuggingFaceShapes())
            tensors[StableDiffusionCheckpoint.TextPrefix + key] = key.Contains("norm") ? (key.EndsWith(".weight", StringComparison.Ordinal) ? torch.ones(shape) : torch.zeros(shape))
                : torch.randn(shape).mul_(0.02);
        SafeTensorsWriter.Write(path, tensors);
    }

    static List<TinyCase>? TinyRows(string[] args, string[] precisions, int runs)
    {
        var folder = BenchSupport.Option(args, "--tiny", "");
        if (folder.Length == 0)
        {
            Console.WriteLine("tiny: skipped (give --tiny MODEL, a latent diffusion folder from train-diffusion; examples/diffusion-emoji/ trains one)");
            return null;
        }
        const int steps = 50;
        const double guidance = 3;
        var description = LatentDiffusionFolder.ReadConfig(folder);
        using var pipeline = LatentDiffusionFolder.Load(folder);
        int latentSide = Math.Max(1, description.ImageSize / pipeline.DownsampleFactor);
        var prompt = BenchSupport.Option(args, "--prompt", "a smiling face");
        Console.WriteLine($"tiny: {folder}: U-Net {pipeline.UNet.Config} ({pipeline.UNet.ParameterCount / 1e6:F1} M parameters), {latentSide * pipeline.DownsampleFactor} px");
        var cases = new List<TinyCase>();
        foreach (var precision in precisions.OrderBy(p => p == "bf16"))   // fp32 first: casting back from bf16 would round the weights
        foreach (int batch in new[] { 1, 8 })
        {
            pipeline.To(precision == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32);
            var options = new GenerationOptions { Steps = steps, GuidanceScale = guidance, LatentHeight = latentSide, LatentWidth = latentSide };
            var prompts = Enumerable.Repeat(prompt, batch).ToArray();
            pipeline.Generate(prompts, options).Dispose();
            var timings = new double[runs];
            for (int i = 0; i < runs; i++)
            {
                var sw = Stopwatch.StartNew();
                pipeline.Generate(prompts, options with { Seed = i + 1 }).Dispose();
                timings[i] = sw.Elapsed.TotalSeconds;
            }
            var c = new TinyCase(precision, batch, steps, guidance, latentSide * pipeline.DownsampleFactor, Median(timings), timings, batch / Median(timings));
            cases.Add(c);
            Console.WriteLine($"tiny {precision}: batch {batch}, DDIM {steps} steps, guidance {guidance}: {c.MedianSeconds:F2} s per batch, {c.ImagesPerSecond:F2} images/s  ({string.Join(", ", timings.Select(s => s.ToString("F2")))})");
        }
        return cases;
    }

    static double Median(double[] values) => values.Order().ElementAt(values.Length / 2);

    static int ElementSize(ScalarType dtype) => dtype is ScalarType.BFloat16 or ScalarType.Float16 ? 2 : 4;
}
