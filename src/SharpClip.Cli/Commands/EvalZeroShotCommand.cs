using SharpClip.Data;
using System.CommandLine;
using System.Globalization;
using SharpClip.Evaluation;
using SharpClip.ZeroShot;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip eval zeroshot --model M -d SET... -o OUT</c>: zero-shot accuracy per set (<see cref="ZeroShotEvaluator"/>).</summary>
public static class EvalZeroShotCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var data = EvalCommand.DataOption("Test set: a class-per-folder tree, a path,label CSV, or synthetic:shapes[:split][#task]. Repeat to evaluate several.");
        var templates = PromptOptions.Templates("the dataset's own prompts, else 'a photo of a {}.'");
        var dataset = PromptOptions.RetiredDatasetPicker("--prompts-dataset");
        var output = EvalFlags.Output();
        var cache = EvalFlags.Cache();
        var cmd = new Command("zeroshot", "Zero-shot classification accuracy (top-1, top-5, mean per-class recall, confusion matrix).");
        model.AddTo(cmd);
        foreach (var o in new Option[] { data, templates, dataset, output, cache }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            var outDir = parse.GetValue(output)!;
            var sets = (parse.GetValue(data) ?? []).SelectMany(s => LabeledDatasets.Open(s)).ToList();
            var prompts = PromptTemplates.Resolve(parse.GetValue(templates), parse.GetValue(dataset));
            var options = new EvaluationOptions { CacheDirectory = EvalFlags.CacheDirectory(parse.GetValue(cache), outDir) };
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
            return EvalFlags.WarnSkipped(results.Select(r => (r.Dataset, r.Skipped, r.Failures)));
        }));
        return cmd;
    }
}
