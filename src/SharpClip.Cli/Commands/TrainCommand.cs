using System.CommandLine;
using SharpClip.Runtime;
using SharpClip.Training;
using Spectre.Console;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip train [--config FILE.json] [--resume] [flags]</c>: trains or fine-tunes CLIP (<see cref="Trainer"/>).
/// Flags override the config file's fields; with <c>--resume</c> and no config file, the run folder's own
/// training_config.json is the base. Ctrl-C stops after the current step, saves, and exits with 130.
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "A JSON training config (snake_case fields of TrainingConfig); flags override it." };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --output from its newest intact checkpoint." };
        var model = new Option<string?>("--model") { Description = "Architecture to train from scratch: tiny, or a preset (ViT-B/32, RN50, ...)." };
        var init = new Option<string?>("--init") { Description = "Checkpoint to fine-tune (SharpClip/Hugging Face/open_clip folder, .safetensors, .pt)." };
        var data = new Option<string?>("--data") { Description = "Training pairs: synthetic:shapes:train, a .csv/.tsv, .jsonl, a folder, or .tar shards." };
        var evalData = new Option<string?>("--eval-data") { Description = "Validation pairs for retrieval (and zero-shot on synthetic:shapes:validation); 'none' to skip." };
        var evalSamples = new Option<int?>("--eval-samples") { Description = "Validation pairs per evaluation." };
        var vocab = new Option<string?>("--vocab") { Description = "Vocabulary file (default: the checkpoint's, or one learned from the training captions)." };
        var vocabSize = new Option<int?>("--vocab-size") { Description = "Size of a learned vocabulary." };
        var contextLength = new Option<int?>("--context-length") { Description = "Text context length when training from scratch." };
        var loss = new Option<string?>("--loss") { Description = "clip (symmetric cross-entropy) or siglip (pairwise sigmoid)." };
        var batchSize = new Option<int?>("--batch-size", "-b") { Description = "Pairs per optimizer step (the contrastive batch)." };
        var microBatch = new Option<int?>("--micro-batch-size") { Description = "Pairs per forward/backward pass: exact gradient-cache accumulation for batches bigger than memory." };
        var epochs = new Option<int?>("--epochs") { Description = "Passes over the data (ignored with --steps)." };
        var steps = new Option<long?>("--steps") { Description = "Optimizer steps." };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate." };
        var minLr = new Option<double?>("--min-lr") { Description = "Learning rate at the end of the cosine." };
        var wd = new Option<double?>("--wd") { Description = "Weight decay (matrices and kernels only)." };
        var warmup = new Option<long?>("--warmup") { Description = "Linear warm-up steps." };
        var maxGradNorm = new Option<double?>("--max-grad-norm") { Description = "Clip the gradient norm to this (0 = no clipping)." };
        var precision = new Option<string?>("--precision") { Description = "fp32, bf16 (fp32 master weights), or auto (bf16 where the CPU has avx512_bf16/amx_bf16)." };
        var checkpointing = new Option<bool>("--activation-checkpointing") { Description = "Recompute transformer blocks in the backward pass (less memory, ~1/3 more compute)." };
        var freezeImage = new Option<bool>("--freeze-image") { Description = "Locked-image tuning: do not train the image tower." };
        var freezeText = new Option<bool>("--freeze-text") { Description = "Do not train the text tower." };
        var output = new Option<string?>("--output", "-o") { Description = "Run folder (becomes a model folder other verbs load)." };
        var seed = new Option<int?>("--seed") { Description = "Seed of the initialisation and of the data order and augmentation." };
        var saveEvery = new Option<int?>("--save-every") { Description = "Checkpoint every N steps (0 = end and Ctrl-C only)." };
        var evalEvery = new Option<int?>("--eval-every") { Description = "Evaluate every N steps (0 = at the end only)." };
        var keep = new Option<int?>("--keep-checkpoints") { Description = "Checkpoints kept." };
        var minCrop = new Option<double?>("--min-crop-scale") { Description = "Smallest crop area of RandomResizedCrop (fraction of the image; open_clip 0.9)." };
        var grayscale = new Option<double?>("--grayscale") { Description = "Chance that a training image is turned grey (RandomGrayscale; default 0)." };
        var workers = new Option<int?>("--workers") { Description = "Image decoding threads." };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads." };

        var cmd = new Command("train", "Train CLIP from scratch or fine-tune a checkpoint; the output folder becomes a model folder.");
        foreach (var o in new Option[] { config, resume, model, init, data, evalData, evalSamples, vocab, vocabSize, contextLength, loss, batchSize, microBatch,
                     epochs, steps, lr, minLr, wd, warmup, maxGradNorm, precision, checkpointing, freezeImage, freezeText, output, seed, saveEvery,
                     evalEvery, keep, minCrop, grayscale, workers, threads })
            cmd.Options.Add(o);

        cmd.SetAction(parseResult => CliErrors.Guard(() =>
        {
            bool Given(Option o) => parseResult.GetResult(o) is { Implicit: false };
            bool resuming = parseResult.GetValue(resume);
            var outputDir = parseResult.GetValue(output);
            string? savedConfig = resuming && parseResult.GetValue(config) is null
                ? Path.Combine(outputDir ?? new TrainingConfig().Output, Trainer.ConfigFileName) : null;
            var c = parseResult.GetValue(config) is { } file ? TrainingConfig.Load(file)
                : savedConfig is not null && File.Exists(savedConfig) ? TrainingConfig.Load(savedConfig)
                : new TrainingConfig();

            c = c with
            {
                Resume = resuming,
                Model = parseResult.GetValue(model) ?? c.Model,
                Architecture = Given(model) ? null : c.Architecture,
                Init = parseResult.GetValue(init) ?? c.Init,
                Data = parseResult.GetValue(data) ?? c.Data,
                EvalData = parseResult.GetValue(evalData) is { } e ? (e.Equals("none", StringComparison.OrdinalIgnoreCase) ? null : e) : c.EvalData,
                EvalSamples = parseResult.GetValue(evalSamples) ?? c.EvalSamples,
                Vocab = parseResult.GetValue(vocab) ?? c.Vocab,
                VocabSize = parseResult.GetValue(vocabSize) ?? c.VocabSize,
                ContextLength = parseResult.GetValue(contextLength) ?? c.ContextLength,
                Objective = parseResult.GetValue(loss) is { } l ? ParseObjective(l) : c.Objective,
                BatchSize = parseResult.GetValue(batchSize) ?? c.BatchSize,
                MicroBatchSize = parseResult.GetValue(microBatch) ?? c.MicroBatchSize,
                Epochs = parseResult.GetValue(epochs) ?? c.Epochs,
                Steps = parseResult.GetValue(steps) ?? c.Steps,
                LearningRate = parseResult.GetValue(lr) ?? c.LearningRate,
                MinLearningRate = parseResult.GetValue(minLr) ?? c.MinLearningRate,
                WeightDecay = parseResult.GetValue(wd) ?? c.WeightDecay,
                WarmupSteps = parseResult.GetValue(warmup) ?? c.WarmupSteps,
                MaxGradNorm = parseResult.GetValue(maxGradNorm) is { } g ? (g > 0 ? g : null) : c.MaxGradNorm,
                Precision = parseResult.GetValue(precision) is { } p ? ComputeTarget.ParsePrecision(p, "--precision") : c.Precision,
                ActivationCheckpointing = Given(checkpointing) ? parseResult.GetValue(checkpointing) : c.ActivationCheckpointing,
                FreezeImageTower = Given(freezeImage) ? parseResult.GetValue(freezeImage) : c.FreezeImageTower,
                FreezeTextTower = Given(freezeText) ? parseResult.GetValue(freezeText) : c.FreezeTextTower,
                Output = outputDir ?? c.Output,
                Seed = parseResult.GetValue(seed) ?? c.Seed,
                SaveEvery = parseResult.GetValue(saveEvery) ?? c.SaveEvery,
                EvalEvery = parseResult.GetValue(evalEvery) ?? c.EvalEvery,
                KeepCheckpoints = parseResult.GetValue(keep) ?? c.KeepCheckpoints,
                MinCropScale = parseResult.GetValue(minCrop) ?? c.MinCropScale,
                GrayscaleProbability = parseResult.GetValue(grayscale) ?? c.GrayscaleProbability,
                Workers = parseResult.GetValue(workers) ?? c.Workers,
                Threads = parseResult.GetValue(threads) ?? c.Threads,
            };
            return Run(c);
        }));
        return cmd;
    }

    static ObjectiveKind ParseObjective(string value) => value.Trim().ToLowerInvariant() switch
    {
        "clip" => ObjectiveKind.Clip,
        "siglip" => ObjectiveKind.SigLip,
        _ => throw new ArgumentException($"--loss {value}: expected clip or siglip"),
    };

    static int Run(TrainingConfig config)
    {
        var cpu = CpuFeatures.Current;
        AnsiConsole.MarkupLineInterpolated($"[grey]{cpu.ModelName}, {cpu.LogicalCores} cores ({string.Join(" ", cpu.RelevantFlags)}); output {Path.GetFullPath(config.Output)}[/]");
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (cts.IsCancellationRequested) return;          // a second Ctrl-C kills the process
            e.Cancel = true;
            cts.Cancel();
            AnsiConsole.MarkupLine("[yellow]stopping after this step and saving a checkpoint (Ctrl-C again to kill)[/]");
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            TrainingResult result;
            if (AnsiConsole.Profile.Capabilities.Interactive)
                result = AnsiConsole.Progress()
                    .AutoClear(false)
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask("starting", autoStart: true, maxValue: 1);
                        return Trainer.Run(config, new Reporter(p => Show(p, task)), cts.Token);
                    });
            else
                result = Trainer.Run(config, new Reporter(p => Log(p)), cts.Token);
            Summarise(result);
            return result.Interrupted ? CliErrors.Cancelled : 0;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    static string StepLine(TrainingProgress p) =>
        $"step {p.Step}/{p.TotalSteps}  loss {p.Loss:F4}  lr {p.LearningRate:E2}  scale {p.LogitScale:F1}  {p.SamplesPerSecond:F0} pairs/s" +
        (p.Remaining is { } r ? $"  ETA {Math.Floor(r.TotalHours):0}:{r:mm\\:ss}" : "");

    static string Metrics(IReadOnlyDictionary<string, double> m) => string.Join("  ", m.Select(kv => $"{kv.Key} {kv.Value:F3}"));

    static void Show(TrainingProgress p, ProgressTask task)
    {
        switch (p.Kind)
        {
            case TrainingProgressKind.Step:
                task.MaxValue = p.TotalSteps;
                task.Value = p.Step;
                task.Description = Markup.Escape(StepLine(p));
                break;
            default:
                Log(p);
                break;
        }
    }

    static long _lastLogged = -1;

    static void Log(TrainingProgress p)
    {
        switch (p.Kind)
        {
            case TrainingProgressKind.Step:
                long every = Math.Max(1, p.TotalSteps / 20);
                if (p.Step % every == 0 || p.Step == p.TotalSteps || _lastLogged < 0)
                {
                    Console.WriteLine(StepLine(p));
                    _lastLogged = p.Step;
                }
                break;
            case TrainingProgressKind.Evaluation:
                AnsiConsole.MarkupLineInterpolated($"[green]eval @ {p.Step}[/]  {Metrics(p.Metrics!)}");
                break;
            case TrainingProgressKind.Checkpoint:
                AnsiConsole.MarkupLineInterpolated($"[grey]checkpoint {p.Message}[/]");
                break;
            case TrainingProgressKind.Warning:
                AnsiConsole.MarkupLineInterpolated($"[yellow]warning: {p.Message}[/]");
                break;
            default:
                AnsiConsole.MarkupLineInterpolated($"{p.Message}");
                break;
        }
    }

    static void Summarise(TrainingResult r)
    {
        var last = r.Losses.Count > 0 ? $", last loss {r.Losses[^1].Loss:F4}" : "";
        if (r.Interrupted)
            AnsiConsole.MarkupLineInterpolated($"[yellow]interrupted at step {r.Position.Step}/{r.TotalSteps}{last}; resume with: sharpclip train --resume --output {r.OutputDirectory}[/]");
        else
            AnsiConsole.MarkupLineInterpolated($"[green]done: {r.Position.Step} steps{last}[/]; model folder {r.OutputDirectory}");
        if (r.LastEvaluation is { } m) Console.WriteLine(Metrics(m));
    }

    /// <summary>Delivers reports synchronously (Progress&lt;T&gt; would post them to the thread pool, out of order).</summary>
    sealed class Reporter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
