using System.CommandLine;
using System.Text.Json;
using SharpClip.Scoring;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip score --model M --pairs FILE.csv [--json]</c>: CLIPScore (2.5·max(cos, 0)) per image–caption row and
/// the corpus mean.
/// </summary>
public static class ScoreCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var pairs = new Option<string>("--pairs") { Description = "CSV/TSV with a header and image,caption columns; one pair per row; paths relative to the file.", Required = true };
        var imageColumn = new Option<string?>("--image-column") { Description = "Name of the image column (default: image, filepath, file, path or image_path)." };
        var captionColumn = new Option<string?>("--caption-column") { Description = "Name of the caption column (default: caption, captions, title or text)." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var cmd = new Command("score", "CLIPScore for image–caption pairs from a CSV, with the corpus mean.");
        model.AddTo(cmd);
        cmd.Options.Add(pairs);
        cmd.Options.Add(imageColumn);
        cmd.Options.Add(captionColumn);
        cmd.Options.Add(json);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            var rows = ClipScore.ReadPairs(parse.GetValue(pairs)!, parse.GetValue(imageColumn), parse.GetValue(captionColumn));
            using var pipeline = model.Load(parse);
            ClipScoreReport report;
            using (var progress = new ConsoleProgress("images", rows.Select(r => r.Image).Distinct().Count()))
                report = ClipScore.Compute(pipeline, rows, ClipScore.Weight, progress);
            foreach (var f in report.Pairs.Where(p => p.Error is not null))
                Console.Error.WriteLine($"skipped line {f.Pair.Line} ({f.Pair.Image}): {f.Error}");
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    weight = ClipScore.Weight,
                    mean = double.IsNaN(report.Mean) ? (double?)null : report.Mean,
                    scored = report.Scored,
                    failed = report.Failed,
                    pairs = report.Pairs.Select(p => new { line = p.Pair.Line, image = p.Pair.Image, caption = p.Pair.Caption, cosine = p.Cosine, score = p.Score, error = p.Error }),
                }, CliJson.Options));
            else
            {
                Console.WriteLine($"{"score",7}  {"cosine",8}  image  |  caption");
                foreach (var p in report.Pairs.Where(p => p.Score.HasValue))
                    Console.WriteLine($"{p.Score,7:F4}  {p.Cosine,8:F4}  {p.Pair.Image}  |  {p.Pair.Caption}");
                Console.WriteLine($"CLIPScore mean over {report.Scored} pair(s): {report.Mean:F4}");
            }
            return report.Failed > 0 ? ExitCodes.SomeInputsFailed : 0;
        }));
        return cmd;
    }
}
