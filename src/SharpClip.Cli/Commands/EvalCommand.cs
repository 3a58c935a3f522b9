using System.CommandLine;
using System.Globalization;
using SharpClip.Evaluation;
using SharpClip.Demos.Emoji;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip eval zeroshot|retrieval ...</c>: the CLIP paper's evaluations of a model on labelled or captioned
/// data; every run writes JSON and Markdown reports (and plots) to <c>--out</c> and prints a table.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var cmd = new Command("eval", "Evaluate a model: zero-shot classification, retrieval recall, linear and few-shot probes.");
        cmd.Subcommands.Add(ZeroShot());
        cmd.Subcommands.Add(Retrieval());
        cmd.Subcommands.Add(LinearProbeCommand());
        cmd.Subcommands.Add(Robustness());
        cmd.Subcommands.Add(EvalStylesCommand.Create());
        return cmd;
    }

    static Option<string[]> DataOption(string what) => new("--data", "-d")
    {
        Description = what,
        Required = true,
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>"1,2,4" → [1, 2, 4] (sorted, distinct); every entry a positive integer; an empty value only with <paramref name="allowNone"/>.</summary>
    internal static IReadOnlyList<int> ParseShots(string value, bool allowNone) =>
        allowNone && string.IsNullOrWhiteSpace(value) ? []
        : value.Split(',').Select(s => int.TryParse(s.Trim(), out var n) && n > 0 ? n : throw new ArgumentException($"--shots: '{s}' is not a positive integer"))
            .Distinct().Order().ToList();

    internal static Option<string> OutOption() => new("--out", "-o") { Description = "Folder for the reports (JSON, Markdown, CSV, PNG).", Required = true };

    internal static Option<string?> CacheOption() => new("--cache") { Description = "Folder for cached features and classifier weights (default: OUT/cache); 'none' disables." };

    internal static string? CacheDir(string? value, string outDir) =>
        value is null ? Path.Combine(outDir, "cache") : value.Equals("none", StringComparison.OrdinalIgnoreCase) ? null : value;

    static Command ZeroShot()
    {
        var model = new ModelOptions();
        var data = DataOption("Test set: a class-per-folder tree, a path,label CSV, or synthetic:shapes[:split][#task]. Repeat to evaluate several.");
        var templates = new Option<string?>("--templates") { Description = "Prompt templates: a JSON file (list, or the CLIP paper's {dataset: {classes, templates}}), a text file, 'imagenet', or one template inline with {}. Default: the dataset's own prompts, else 'a photo of a {}.'" };
        var dataset = new Option<string?>("--prompts-dataset") { Description = "Which dataset's templates to take from a multi-dataset prompts file." };
        var output = OutOption();
        var cache = CacheOption();
        var cmd = new Command("zeroshot", "Zero-shot classification accuracy (top-1, top-5, mean per-class recall, confusion matrix).");
        model.AddTo(cmd);
        cmd.Options.Add(data);
        cmd.Options.Add(templates);
        cmd.Options.Add(dataset);
        cmd.Options.Add(output);
        cmd.Options.Add(cache);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            var outDir = parse.GetValue(output)!;
            var sets = (parse.GetValue(data) ?? []).SelectMany(s => LabeledDatasets.Open(s)).ToList();
            var prompts = parse.GetValue(templates) is { } t ? ClassifyCommand.ResolveTemplates(t, parse.GetValue(dataset)) : null;
            var options = new EvaluationOptions { CacheDirectory = CacheDir(parse.GetValue(cache), outDir) };
            using var pipeline = model.Load(parse);
            var results = new List<ZeroShotResult>();
            foreach (var set in sets)
                using (var progress = new ConsoleProgress(set.Name, set.Items.Count))
                    results.Add(ZeroShotEvaluator.Evaluate(pipeline, set, prompts, options, progress));
            var files = ZeroShotReport.Write(outDir, pipeline.Source, results);
            Console.WriteLine($"{"dataset",-40} {"images",7} {"classes",7} {"top-1",8} {"top-5",8} {"mpc-recall",10} {"chance",7}");
            foreach (var r in results)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Dataset,-40} {r.Metrics.Count,7} {r.Metrics.ClassCount,7} {r.Metrics.Top1,8:P2} {r.Metrics.Top5,8:P2} {r.Metrics.MeanPerClassRecall,10:P2} {r.Metrics.Chance,7:P1}"));
            Console.WriteLine($"reports: {string.Join(", ", files.Take(2))} (+{files.Count - 2} confusion files)");
            return WarnSkipped(results.Select(r => (r.Dataset, r.Skipped, r.Failures)));
        }));
        return cmd;
    }

    /// <summary>
    /// One stderr warning per set with unreadable images (the first three named), and the exit code: 2 when any
    /// image was left out of the numbers, else 0.
    /// </summary>
    internal static int WarnSkipped(IEnumerable<(string What, int Skipped, IReadOnlyList<string> Failures)> sets)
    {
        bool any = false;
        foreach (var (what, skipped, failures) in sets.Where(s => s.Skipped > 0))
        {
            any = true;
            Console.Error.WriteLine($"warning: {what}: {skipped} image reads failed; those images are left out of its numbers");
            foreach (var f in failures.Take(3)) Console.Error.WriteLine($"  {f}");
        }
        return any ? EmbedCommand.SomeInputsFailed : 0;
    }

    static Command Retrieval()
    {
        var model = new ModelOptions();
        var data = DataOption("Captioned data: CSV/TSV, JSONL, a folder with caption sidecars, tar shards or synthetic:shapes[:split]. Repeat for several.");
        var limit = new Option<int?>("--limit") { Description = "Use only the first N samples of each dataset." };
        var output = OutOption();
        var cmd = new Command("retrieval", "Image→text and text→image recall@1/5/10 (all captions of each image count).");
        model.AddTo(cmd);
        cmd.Options.Add(data);
        cmd.Options.Add(limit);
        cmd.Options.Add(output);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            var sources = (parse.GetValue(data) ?? []).Select(s => Data.ImageTextSources.Open(s)).ToList();
            using var pipeline = model.Load(parse);
            var results = new List<RetrievalResult>();
            foreach (var source in sources)
                using (var progress = new ConsoleProgress(source.Name, (int)Math.Min(source.CountHint ?? 0, parse.GetValue(limit) ?? int.MaxValue)))
                    results.Add(RetrievalEvaluator.Evaluate(pipeline, source, parse.GetValue(limit), progress));
            var files = RetrievalEvaluator.WriteReport(parse.GetValue(output)!, pipeline.Source, results);
            Console.WriteLine($"{"dataset",-40} {"images",7} {"texts",7}  I→T R@1/5/10          T→I R@1/5/10");
            foreach (var r in results)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Dataset,-40} {r.Metrics.Images,7} {r.Metrics.Texts,7}  {r.Metrics.ImageToText[1],6:P1} {r.Metrics.ImageToText[5],6:P1} {r.Metrics.ImageToText[10],6:P1}   {r.Metrics.TextToImage[1],6:P1} {r.Metrics.TextToImage[5],6:P1} {r.Metrics.TextToImage[10],6:P1}"));
            Console.WriteLine($"reports: {string.Join(", ", files)}");
            return WarnSkipped(results.Select(r => (r.Dataset, r.Skipped, r.Failures)));
        }));
        return cmd;
    }

    static Command Robustness()
    {
        var model = new ModelOptions();
        var root = new Option<string?>("--data-root") { Description = "A prepared emoji folder (sharpclip datasets prepare emoji), or a folder of style folders (each a class-per-folder tree or one path,label CSV)." };
        var data = new Option<string[]>("--data", "-d") { Description = "Instead of --data-root: STYLE=SPEC per style (SPEC a class-per-folder tree or path,label CSV). Repeat." };
        var task = new Option<string>("--task") { Description = "Emoji task: groups (8 Unicode groups) or subgroups.", DefaultValueFactory = _ => "groups" };
        var split = new Option<string>("--split") { Description = "Emoji split: test, val or train.", DefaultValueFactory = _ => "test" };
        var templates = new Option<string?>("--templates") { Description = "Prompt templates (as for eval zeroshot). Default for emoji folders: '{}', 'an emoji of {}', '{} emoji'; else 'a photo of a {}.'" };
        var wild = new Option<string[]>("--wild") { Description = "An extra 'wild' column with its own classes, scored by balanced accuracy: [NAME=]SPEC, SPEC a prepared openclipart folder (sharpclip datasets prepare openclipart), a class-per-folder tree or a path,label CSV. Repeat." };
        var output = OutOption();
        var cache = CacheOption();
        var cmd = new Command("robustness", "The same classes on every style: zero-shot accuracy per style side by side, and the drop under shift.");
        model.AddTo(cmd);
        foreach (var o in new Option[] { root, data, task, split, templates, wild, output, cache }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            var outDir = parse.GetValue(output)!;
            var specs = parse.GetValue(data) ?? [];
            var rootDir = parse.GetValue(root);
            if ((rootDir is null) == (specs.Length == 0)) throw new ArgumentException("give either --data-root or one --data STYLE=SPEC per style");
            var styles = rootDir is not null
                ? EmojiStyleSets.FromRoot(rootDir, parse.GetValue(task)!, parse.GetValue(split)!)
                : specs.Select(s => s.IndexOf('=') is var eq and > 0
                    ? new StyleSet(s[..eq], null, Single(s[(eq + 1)..], "--data"))
                    : throw new ArgumentException($"--data {s}: expected STYLE=SPEC")).ToList();
            var wildSets = (parse.GetValue(wild) ?? []).Select(w => w.IndexOf('=') is var eq and > 0 && !File.Exists(w) && !Directory.Exists(w)
                ? EmojiStyleSets.OpenWild(w[(eq + 1)..], w[..eq]) : EmojiStyleSets.OpenWild(w)).ToList();
            var emoji = rootDir is not null && EmojiStyleSets.IsPrepared(rootDir);
            var prompts = parse.GetValue(templates) is { } t ? ClassifyCommand.ResolveTemplates(t, null) : emoji ? EmojiStyleSets.Templates : null;
            var options = new EvaluationOptions { CacheDirectory = CacheDir(parse.GetValue(cache), outDir) };
            using var pipeline = model.Load(parse);
            var progress = new List<ConsoleProgress>();
            Func<StyleSet, IProgress<int>?> bar = s => { var p = new ConsoleProgress(s.Style, s.Dataset.Items.Count); progress.Add(p); return p; };
            var result = RobustnessEvaluator.Evaluate(pipeline, styles, prompts, options, bar);
            result = result with { Wild = RobustnessEvaluator.EvaluateWild(pipeline, wildSets, prompts, options, bar) };
            foreach (var p in progress) p.Dispose();
            var files = RobustnessReport.Write(outDir, pipeline.Source, emoji ? $"emoji {parse.GetValue(task)} ({parse.GetValue(split)})" : "zero-shot", result);
            Console.WriteLine($"{"style",-16} {"role",-10} {"images",7} {"top-1",8} {"Δ",7} {"mpc-recall",10}");
            foreach (var s in result.Styles)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{s.Style,-16} {s.Role ?? "-",-10} {s.Result.Metrics.Count,7} {s.Result.Metrics.Top1,8:P2} {(s.Result.Metrics.Top1 - result.Reference) * 100,7:+0.0;-0.0;0.0} {s.Result.Metrics.MeanPerClassRecall,10:P2}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{result.ClassNames.Count} classes (chance {1.0 / result.ClassNames.Count:P1}); reports: {string.Join(", ", files)}"));
            foreach (var w in result.Wild)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"wild {w.Style}: {w.Result.Metrics.ClassCount} classes of its own (chance {w.Result.Metrics.Chance:P1}), {w.Result.Metrics.Count} images: balanced accuracy {w.Result.Metrics.MeanPerClassRecall:P2}, top-1 {w.Result.Metrics.Top1:P2}"));
            return WarnSkipped(result.Styles.Concat(result.Wild).Select(s => (s.Style, s.Result.Skipped, s.Result.Failures)));
        }));
        return cmd;
    }

    static LabeledDataset Single(string spec, string option)
    {
        var sets = LabeledDatasets.Open(spec);
        return sets.Count == 1 ? sets[0] : throw new ArgumentException($"{option} {spec}: names {sets.Count} tasks; pick one with #task (e.g. {spec}#shape)");
    }

    static Command LinearProbeCommand()
    {
        var model = new ModelOptions();
        var train = new Option<string>("--train") { Description = "Training set (class-per-folder tree, path,label CSV, synthetic:shapes:train#task).", Required = true };
        var test = new Option<string>("--test") { Description = "Test set with the same classes.", Required = true };
        var val = new Option<string?>("--val") { Description = "Validation set for choosing C (default: 20 % of the training set)." };
        var shots = new Option<string>("--shots") { Description = "k-shot sizes, comma-separated.", DefaultValueFactory = _ => "1,2,4,8,16" };
        var seeds = new Option<int>("--seeds") { Description = "Random k-shot samples averaged per k.", DefaultValueFactory = _ => 3 };
        var templates = new Option<string?>("--templates") { Description = "Templates for the zero-shot line (as for eval zeroshot)." };
        var output = OutOption();
        var cache = CacheOption();
        var cmd = new Command("linear-probe", "Logistic-regression probe on frozen features (C swept on validation), k-shot probes, and the zero-shot line.");
        model.AddTo(cmd);
        foreach (var o in new Option[] { train, test, val, shots, seeds, templates, output, cache }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            var outDir = parse.GetValue(output)!;
            var trainSet = Single(parse.GetValue(train)!, "--train");
            var testSet = Single(parse.GetValue(test)!, "--test");
            var valSet = parse.GetValue(val) is { } v ? Single(v, "--val") : null;
            foreach (var other in new[] { testSet, valSet })
                if (other is not null && !other.ClassNames.SequenceEqual(trainSet.ClassNames))
                    throw new ArgumentException($"{other.Name}: classes ({string.Join(", ", other.ClassNames.Take(5))}...) differ from the training set's ({string.Join(", ", trainSet.ClassNames.Take(5))}...)");
            var k = ParseShots(parse.GetValue(shots)!, allowNone: false);
            int seedCount = parse.GetValue(seeds) is var n and > 0 ? n : throw new ArgumentException($"--seeds: {parse.GetValue(seeds)} is not a positive integer");
            var prompts = parse.GetValue(templates) is { } t ? ClassifyCommand.ResolveTemplates(t, null) : null;
            var options = new EvaluationOptions { CacheDirectory = CacheDir(parse.GetValue(cache), outDir) };
            using var pipeline = model.Load(parse);
            var unreadable = new List<(string, int, IReadOnlyList<string>)>();
            LabeledFeatures Features(LabeledDataset set)
            {
                using var progress = new ConsoleProgress(set.Name, set.Items.Count);
                var features = ImageFeatures.ExtractCached(pipeline, set, options.CacheDirectory, progress);
                unreadable.Add((set.Name, features.Failed, features.Errors.OrderBy(e => e.Key).Select(e => e.Value).ToList()));
                return LabeledFeatures.From(features, set);
            }
            var trainF = Features(trainSet);
            var testF = Features(testSet);
            var valF = valSet is null ? null : Features(valSet);
            int classes = trainSet.ClassNames.Count;
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var probe = LinearProbe.Run(trainF, valF, testF, classes);
            double probeSeconds = sw.Elapsed.TotalSeconds;
            var fewShot = LinearProbe.FewShot(trainF, testF, classes, k, seedCount);
            var zero = ZeroShotEvaluator.Evaluate(pipeline, testSet, prompts, options);
            var files = ProbeReport.Write(outDir, pipeline.Source, trainSet.Name, testSet.Name, probe, probeSeconds, fewShot, zero.Metrics.Top1);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"linear probe: C={probe.C:G3}, validation {probe.ValidationAccuracy:P2}, test {probe.TestAccuracy:P2} ({probe.TrainCount} training images, {probeSeconds:F1} s)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"zero-shot: {zero.Metrics.Top1:P2}"));
            foreach (var p in fewShot) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{p.Shots,3}-shot: {p.MeanAccuracy:P2} ± {p.StdAccuracy:P2}"));
            Console.WriteLine($"reports: {string.Join(", ", files)}");
            return WarnSkipped(unreadable);
        }));
        return cmd;
    }
}
