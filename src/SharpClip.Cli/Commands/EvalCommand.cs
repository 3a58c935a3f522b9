using System.CommandLine;
using System.Globalization;
using SharpClip.Evaluation;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip eval zeroshot|retrieval ...</c>: the CLIP paper's evaluations of a model on labelled or captioned
/// data; every run writes JSON and Markdown reports (and plots) to <c>--out</c> and prints a table.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var cmd = new Command("eval", "Evaluate a model: zero-shot classification, retrieval recall.");
        cmd.Subcommands.Add(ZeroShot());
        cmd.Subcommands.Add(Retrieval());
        return cmd;
    }

    static Option<string[]> DataOption(string what) => new("--data", "-d")
    {
        Description = what,
        Required = true,
        AllowMultipleArgumentsPerToken = false,
    };

    static Option<string> OutOption() => new("--out", "-o") { Description = "Folder for the reports (JSON, Markdown, CSV, PNG).", Required = true };

    static Option<string?> CacheOption() => new("--cache") { Description = "Folder for cached features and classifier weights (default: OUT/cache); 'none' disables." };

    static string? CacheDir(string? value, string outDir) =>
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
            return results.Any(r => r.Skipped > 0) ? EmbedCommand.SomeInputsFailed : 0;
        }));
        return cmd;
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
            return results.Any(r => r.Skipped > 0) ? EmbedCommand.SomeInputsFailed : 0;
        }));
        return cmd;
    }
}
