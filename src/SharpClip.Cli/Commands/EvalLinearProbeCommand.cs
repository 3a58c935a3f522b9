using System.CommandLine;
using System.Globalization;
using SharpClip.Evaluation;
using SharpClip.ZeroShot;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip eval linear-probe --model M --train SET [--train-samples N] --test SET -o OUT</c>: full and k-shot probes
/// and the zero-shot line (<see cref="LinearProbeRun"/>), a stderr line per fit of the C sweep (minutes on large sets).
/// </summary>
public static class EvalLinearProbeCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var train = new Option<string>("--train") { Description = "Training set (class-per-folder tree, path,label CSV, synthetic:shapes:train#task).", Required = true };
        var test = new Option<string>("--test") { Description = "Test set with the same classes.", Required = true };
        var trainSamples = new Option<int?>("--train-samples") { Description = "Fit on N images of the training set, drawn per class in proportion (seeded); faster on large sets. Default: all." };
        var sampleSeed = new Option<int>("--sample-seed") { Description = "Seed of the --train-samples draw.", DefaultValueFactory = _ => 0 };
        var val = new Option<string?>("--val") { Description = "Validation set for choosing C (default: 20 % of the training set)." };
        var shots = new Option<string>("--shots") { Description = "k-shot sizes, comma-separated.", DefaultValueFactory = _ => "1,2,4,8,16" };
        var seeds = new Option<int>("--seeds") { Description = "Random k-shot samples averaged per k.", DefaultValueFactory = _ => 3 };
        var templates = PromptOptions.Templates("the test set's own prompts, else 'a photo of a {}.' (for the zero-shot line).");
        var output = EvalFlags.Output();
        var cache = EvalFlags.Cache();
        var cmd = new Command("linear-probe", "Logistic-regression probe on frozen features (C swept on validation), k-shot probes, and the zero-shot line.");
        model.AddTo(cmd);
        foreach (var o in new Option[] { train, trainSamples, sampleSeed, test, val, shots, seeds, templates, output, cache }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            var outDir = parse.GetValue(output)!;
            var trainSet = EvalCommand.Single(parse.GetValue(train)!, "--train");
            if (parse.GetValue(trainSamples) is { } n) trainSet = n > 0 ? trainSet.StratifiedSample(n, parse.GetValue(sampleSeed))
                : throw new ArgumentException($"--train-samples: {n} is not a positive integer");
            var testSet = EvalCommand.Single(parse.GetValue(test)!, "--test");
            var valSet = parse.GetValue(val) is { } v ? EvalCommand.Single(v, "--val") : null;
            LinearProbeRun.RequireSameClasses(trainSet, testSet, valSet);
            var k = EvalFlags.Shots(parse.GetValue(shots)!, allowNone: false);
            int seedCount = parse.GetValue(seeds) is var s and > 0 ? s : throw new ArgumentException($"--seeds: {parse.GetValue(seeds)} is not a positive integer");
            var prompts = PromptTemplates.Resolve(parse.GetValue(templates));
            var options = new EvaluationOptions { CacheDirectory = EvalFlags.CacheDirectory(parse.GetValue(cache), outDir) };
            using var pipeline = model.Load(parse);
            LinearProbeRunResult run;
            using (var bars = new ProgressBars())
                run = LinearProbeRun.Evaluate(pipeline, trainSet, testSet, valSet, k, seedCount, prompts, options, set => bars.Start(set.Name, set.Items.Count),
                    new SyncProgress<string>(m => { bars.Dispose(); Console.Error.WriteLine("  probe: " + m); }));
            var (probe, zero) = (run.Probe, run.ZeroShot.Metrics.Top1);
            var files = ProbeReport.Write(outDir, pipeline.Source, trainSet.Name, testSet.Name, probe, run.ProbeSeconds, run.FewShot, zero);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"linear probe: C={probe.C:G3}, validation {probe.ValidationAccuracy:P2}, test {probe.TestAccuracy:P2} ({probe.TrainCount} training images, {run.ProbeSeconds:F1} s)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"zero-shot: {zero:P2}"));
            foreach (var p in run.FewShot) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{p.Shots,3}-shot: {p.MeanAccuracy:P2} ± {p.StdAccuracy:P2}"));
            Console.WriteLine($"reports: {string.Join(", ", files)}");
            return EvalFlags.WarnSkipped(run.Unreadable.Select(u => (u.Set, u.Count, u.Failures)));
        }));
        return cmd;
    }
}
