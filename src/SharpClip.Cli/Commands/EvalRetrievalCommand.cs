using System.CommandLine;
using System.Globalization;
using SharpClip.Data;
using SharpClip.Evaluation;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip eval retrieval --model M -d SOURCE... -o OUT</c>: image↔text recall per source (<see cref="RetrievalEvaluator"/>).</summary>
public static class EvalRetrievalCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var data = EvalCommand.DataOption("Captioned data: CSV/TSV, JSONL, a folder with caption sidecars, tar shards or synthetic:shapes[:split]. Repeat for several.");
        var limit = new Option<int?>("--limit") { Description = "Use only the first N samples of each dataset." };
        var output = EvalFlags.Output();
        var cmd = new Command("retrieval", "Image→text and text→image recall@1/5/10 (all captions of each image count).");
        model.AddTo(cmd);
        foreach (var o in new Option[] { data, limit, output }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            var sources = (parse.GetValue(data) ?? []).Select(s => ImageTextSources.Open(s)).ToList();
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
            return EvalFlags.WarnSkipped(results.Select(r => (r.Dataset, r.Skipped, r.Failures)));
        }));
        return cmd;
    }
}
