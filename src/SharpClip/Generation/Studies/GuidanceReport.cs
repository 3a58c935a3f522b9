using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using SharpClip.Generation.TextToImage;
using SharpClip.Plotting;
using SharpClip.Vision;

namespace SharpClip.Generation.Studies;

/// <summary>
/// Writes a <see cref="GuidanceStudyResult"/>: <c>guidance.json</c> (every image's seed and judgement, every caption's
/// distractors), <c>guidance.md</c> (the table), <c>guidance.png</c> (judge R-precision and CLIPScore against the
/// guidance scale, with the real-image ceiling and chance) and <c>guidance-samples.png</c> (per sample caption, the
/// real image then its first image at each scale).
/// </summary>
public static class GuidanceReport
{
    /// <summary>The table a console shows: one line per guidance scale.</summary>
    public static IEnumerable<string> ConsoleLines(GuidanceStudyResult r) => r.Rows.Select(row =>
        string.Create(CultureInfo.InvariantCulture, $"guidance {row.Guidance,5:G4}: R-precision {row.Judge.RPrecision.Mean,6:P1}, CLIPScore {row.Judge.ClipScore.Mean:F3}"));

    public static StudyFiles Write(GuidanceStudyResult r, string directory, string? command = null) =>
        StudyFiles.Write(directory, "guidance", Json(r, command), Markdown(r, command), Plot(r), r.SampleImages.Count > 0 ? Samples(r) : null);

    static JsonObject Json(GuidanceStudyResult r, string? command)
    {
        var json = StudyFormat.Header("guidance", r.Generator, r.GeneratorKind, r.Judge, r.Settings, r.Seed);
        json["command"] = command;
        json["images_per_caption"] = r.ImagesPerCaption;
        json["seed_rule"] = "caption m's image i is made from seed + m * images_per_caption + i at every guidance scale";
        json["rows"] = new JsonArray([.. r.Rows.Select(row =>
        {
            var node = StudyFormat.Node(row.Judge);
            node["guidance"] = row.Guidance;
            return (JsonNode)node;
        })]);
        json["real_images"] = StudyFormat.Node(r.RealImages);
        json["captions"] = new JsonArray([.. r.PerCaption.Select((p, m) =>
        {
            var node = StudyFormat.Caption(r.Judge, m);
            node["real"] = StudyFormat.Node(p.Real);
            node["images"] = new JsonArray([.. r.Rows.Select((row, s) => (JsonNode)new JsonObject
            {
                ["guidance"] = row.Guidance,
                ["images"] = new JsonArray([.. p.PerScale[s].Select(x =>
                {
                    var j = StudyFormat.Node(x.Judge);
                    j["seed"] = x.Seed;
                    return (JsonNode)j;
                })]),
            })]);
            return (JsonNode)node;
        })]);
        return json;
    }

    static string Markdown(GuidanceStudyResult r, string? command)
    {
        var j = r.Judge;
        var md = new StringBuilder();
        md.AppendLine("# Classifier-free guidance judged by a separate CLIP\n");
        if (command is not null) md.AppendLine($"```\n{command}\n```\n");
        md.AppendLine($"Generator `{r.Generator}` ({r.GeneratorKind}); judge `{j.Embedder.Name}` (trained separately).");
        md.AppendLine(StudyFormat.Invariant($"{j.Set.Captions.Count} held-out captions of {j.Set.Available} from `{j.Set.Source}` (seed {r.Seed}), {r.ImagesPerCaption} image(s) per caption and scale from the same seeds at every scale. R-precision among K = {j.K} captions (chance {j.CaptionChance * 100:0.0} %)")
            + (j.GroupChance is { } gc ? StudyFormat.Invariant($"; group R-precision among {j.Groups.Count} group prompts (chance {gc * 100:0.0} %).") : ".")
            + " Means over captions with 95 % intervals.\n");
        md.AppendLine($"| guidance | R-precision (K = {j.K}) | group R-precision | judge CLIPScore |");
        md.AppendLine("|---:|---:|---:|---:|");
        foreach (var row in r.Rows)
            md.AppendLine(StudyFormat.Invariant($"| {row.Guidance:G4}{(row.Guidance == 1 ? " (off)" : "")} | {StudyFormat.Percent(row.Judge.RPrecision)} | {StudyFormat.Group(row.Judge)} | {StudyFormat.Value(row.Judge.ClipScore)} |"));
        md.AppendLine($"| real held-out images | {StudyFormat.Percent(r.RealImages.RPrecision)} | {StudyFormat.Group(r.RealImages)} | {StudyFormat.Value(r.RealImages.ClipScore)} |");
        md.AppendLine(StudyFormat.Invariant($"| chance | {j.CaptionChance * 100:0.0} % | {(j.GroupChance is { } g ? StudyFormat.Invariant($"{g * 100:0.0} %") : "")} | |"));
        md.AppendLine("\n![R-precision and CLIPScore against guidance](guidance.png)\n");
        md.AppendLine("Samples (`guidance-samples.png`): per caption the real image, then its first image at each scale (✓/✗ = the judge ranks the caption first).\n");
        md.AppendLine("![samples](guidance-samples.png)");
        return md.ToString();
    }

    static RgbImage Plot(GuidanceStudyResult r)
    {
        var xs = r.Rows.Select(row => row.Guidance).ToList();
        var title = $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(r.Generator))}: guidance judged by another CLIP";
        var rSeries = StudyFormat.PrecisionSeries($"R-precision (K = {r.Judge.K})", xs, [.. r.Rows.Select(row => row.Judge)]);
        var precision = new LineChart
        {
            Title = title, XLabel = "classifier-free guidance scale", YLabel = "judge R-precision", Percent = true, Series = rSeries,
            References =
            [
                new(StudyFormat.Invariant($"real held-out images ({r.RealImages.RPrecision.Mean * 100:0.0}%)"), r.RealImages.RPrecision.Mean),
                new(StudyFormat.Invariant($"chance ({r.Judge.CaptionChance * 100:0.0}%)"), r.Judge.CaptionChance),
            ],
        };
        var score = new LineChart
        {
            Title = "CLIPScore", XLabel = "classifier-free guidance scale", YLabel = "judge CLIPScore (w = 2.5)",
            Series = [StudyFormat.Series("CLIPScore", xs, [.. r.Rows.Select(row => row.Judge.ClipScore)])],
            References = [new(StudyFormat.Invariant($"real held-out images ({r.RealImages.ClipScore.Mean:0.000})"), r.RealImages.ClipScore.Mean)],
        };
        return LinePlot.Panels([precision, score]);
    }

    static RgbImage Samples(GuidanceStudyResult r)
    {
        var rows = new List<ContactSheetRow>();
        for (int m = 0; m < r.SampleImages.Count; m++)
        {
            var p = r.PerCaption[m];
            var perScale = r.SampleImages[m];
            var tiles = new List<ContactSheetTile> { StudyFormat.RealTile(p.Caption, p.Real, perScale[0][0]) };
            tiles.AddRange(r.Rows.Select((row, s) => new ContactSheetTile(perScale[s][0],
                StudyFormat.Invariant($"g {row.Guidance:G4} {StudyFormat.Mark(p.PerScale[s][0].Judge)}"))));
            rows.Add(new ContactSheetRow(StudyFormat.Heading(p.Caption), tiles));
        }
        return ContactSheet.RenderRows(rows);
    }
}
