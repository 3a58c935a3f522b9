using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using SharpClip.Generation.TextToImage;
using SharpClip.Plotting;
using SharpClip.Vision;

namespace SharpClip.Generation.Studies;

/// <summary>
/// Writes a <see cref="RerankingStudyResult"/>: <c>reranking.json</c> (every candidate's seed, reranker cosine and
/// judgement, every caption's distractors — enough to recompute each number), <c>reranking.md</c> (the table and the
/// issue's goal, met or not), <c>reranking.png</c> (judge R-precision and CLIPScore against N on a log₂ axis, with the
/// random-candidate floor, the real-image ceiling and chance) and <c>reranking-samples.png</c> (per sample caption,
/// the real image then the candidates in the reranker's order, the kept one framed).
/// </summary>
public static class RerankingReport
{
    /// <summary>The issue's goal: reranking the most candidates lifts R-precision by at least this much over one sample.</summary>
    public const double GoalLift = 0.10;

    /// <summary>Candidates shown per caption in the sample grid (the reranker's best first).</summary>
    public const int SampleTiles = 8;

    /// <summary>The table a console shows: one line per N, then the ceiling and the floor.</summary>
    public static IEnumerable<string> ConsoleLines(RerankingStudyResult r)
    {
        yield return $"{"N",4} {"reranker cos",12} {"R-precision",12} {"lift (pts)",10} {"CLIPScore",9}";
        foreach (var row in r.Rows)
            yield return string.Create(CultureInfo.InvariantCulture, $"{row.Candidates,4} {row.RerankerCosine.Mean,12:F4} {row.Judge.RPrecision.Mean,12:P1} {row.RPrecisionLift.Mean * 100,10:+0.0;-0.0;0.0} {row.Judge.ClipScore.Mean,9:F3}");
        yield return string.Create(CultureInfo.InvariantCulture, $"real images: R-precision {r.RealImages.RPrecision.Mean:P1}, CLIPScore {r.RealImages.ClipScore.Mean:F3}; random candidate: {r.RandomCandidate.RPrecision.Mean:P1}");
    }

    public static StudyFiles Write(RerankingStudyResult r, string directory, string? command = null) =>
        StudyFiles.Write(directory, "reranking", Json(r, command), Markdown(r, command), Plot(r), r.SampleImages.Count > 0 ? Samples(r) : null);

    static JsonObject Json(RerankingStudyResult r, string? command)
    {
        var json = StudyFormat.Header("reranking", r.Generator, r.GeneratorKind, r.Judge, r.Settings, r.Seed);
        json["command"] = command;
        json["reranker"] = new JsonObject { ["path"] = Path.GetFullPath(r.Reranker) };
        json["candidates"] = new JsonArray([.. r.CandidateCounts.Select(n => (JsonNode)JsonValue.Create(n))]);
        json["seed_rule"] = "caption m's candidate i is made from seed + m * max(candidates) + i";
        json["rows"] = new JsonArray([.. r.Rows.Select(row =>
        {
            var node = StudyFormat.Node(row.Judge);
            node["candidates"] = row.Candidates;
            node["reranker_cosine"] = StudyFormat.Node(row.RerankerCosine);
            node["r_precision_lift_over_one"] = StudyFormat.Node(row.RPrecisionLift);
            return (JsonNode)node;
        })]);
        json["random_candidate"] = StudyFormat.Node(r.RandomCandidate);
        json["real_images"] = StudyFormat.Node(r.RealImages);
        json["goal"] = Goal(r) is { } g ? new JsonObject { ["lift_points_at_least"] = GoalLift * 100, ["measured"] = StudyFormat.Node(g.Lift), ["met"] = g.Met } : null;
        json["captions"] = new JsonArray([.. r.PerCaption.Select((p, m) =>
        {
            var node = StudyFormat.Caption(r.Judge, m);
            node["real"] = StudyFormat.Node(p.Real);
            node["kept"] = new JsonArray([.. r.CandidateCounts.Select((n, c) => (JsonNode)new JsonObject { ["candidates"] = n, ["index"] = p.Kept[c] })]);
            node["candidates"] = new JsonArray([.. p.Candidates.Select(c =>
            {
                var j = StudyFormat.Node(c.Judge);
                j["seed"] = c.Seed;
                j["reranker_cosine"] = c.RerankerCosine;
                return (JsonNode)j;
            })]);
            return (JsonNode)node;
        })]);
        return json;
    }

    /// <summary>The lift at the largest N over N = 1, and whether it reaches <see cref="GoalLift"/>; null when N = 1 is the only count.</summary>
    public static (MetricSummary Lift, bool Met)? Goal(RerankingStudyResult r) =>
        r.Rows.Count > 1 ? (r.Rows[^1].RPrecisionLift, r.Rows[^1].RPrecisionLift.Mean >= GoalLift) : null;

    static string Markdown(RerankingStudyResult r, string? command)
    {
        var j = r.Judge;
        var md = new StringBuilder();
        md.AppendLine("# Does reranking work? CLIP R-precision of the kept image\n");
        if (command is not null) md.AppendLine($"```\n{command}\n```\n");
        md.AppendLine($"Generator `{r.Generator}` ({r.GeneratorKind}); reranker `{r.Reranker}`; judge `{j.Embedder.Name}` (trained separately).");
        md.AppendLine(StudyFormat.Invariant($"{j.Set.Captions.Count} held-out captions of {j.Set.Available} from `{j.Set.Source}` (seed {r.Seed}). R-precision: the kept image's caption ranked first by the judge among K = {j.K} captions (chance {j.CaptionChance * 100:0.0} %)")
            + (j.GroupChance is { } gc ? StudyFormat.Invariant($"; group R-precision: its group's prompt first among {j.Groups.Count} (chance {gc * 100:0.0} %).") : ".")
            + " CLIPScore = 2.5 · max(cos, 0) by the judge. Means over captions with 95 % intervals (mean ± 1.96 standard errors); the lift is paired per caption.\n");
        md.AppendLine($"| candidates N | reranker cosine of kept | R-precision (K = {j.K}) | lift over N = 1 (points) | group R-precision | judge CLIPScore |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|");
        foreach (var row in r.Rows)
            md.AppendLine($"| {row.Candidates} | {StudyFormat.Value(row.RerankerCosine)} | {StudyFormat.Percent(row.Judge.RPrecision)} | {StudyFormat.Points(row.RPrecisionLift)} | {StudyFormat.Group(row.Judge)} | {StudyFormat.Value(row.Judge.ClipScore)} |");
        md.AppendLine($"| random candidate | | {StudyFormat.Percent(r.RandomCandidate.RPrecision)} | | {StudyFormat.Group(r.RandomCandidate)} | {StudyFormat.Value(r.RandomCandidate.ClipScore)} |");
        md.AppendLine($"| real held-out images | | {StudyFormat.Percent(r.RealImages.RPrecision)} | | {StudyFormat.Group(r.RealImages)} | {StudyFormat.Value(r.RealImages.ClipScore)} |");
        md.AppendLine(StudyFormat.Invariant($"| chance | | {j.CaptionChance * 100:0.0} % | | {(j.GroupChance is { } g ? StudyFormat.Invariant($"{g * 100:0.0} %") : "")} | |"));
        if (Goal(r) is { } goal)
            md.AppendLine(StudyFormat.Invariant($"\nGoal (issue 16 §4): reranking {r.Rows[^1].Candidates} candidates lifts R-precision by ≥ {GoalLift * 100:0} points over a single sample. Measured: {StudyFormat.Points(goal.Lift)} points — **{(goal.Met ? "met" : "not met")}**."));
        md.AppendLine("\n![R-precision and CLIPScore against candidates](reranking.png)\n");
        md.AppendLine("Samples (`reranking-samples.png`): per caption the real image, then the candidates in the reranker's order (cosine; ✓/✗ = the judge ranks the caption first), the kept one framed.\n");
        md.AppendLine("![samples](reranking-samples.png)");
        return md.ToString();
    }

    static RgbImage Plot(RerankingStudyResult r)
    {
        var xs = r.Rows.Select(row => (double)row.Candidates).ToList();
        var title = $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(r.Generator))}: reranking judged by another CLIP";
        var rSeries = StudyFormat.PrecisionSeries($"R-precision of the kept image (K = {r.Judge.K})", xs, [.. r.Rows.Select(row => row.Judge)]);
        var precision = new LineChart
        {
            Title = title, XLabel = "candidates reranked (log scale)", YLabel = "judge R-precision", LogX = true, Percent = true, Series = rSeries,
            References =
            [
                new(StudyFormat.Invariant($"real held-out images ({r.RealImages.RPrecision.Mean * 100:0.0}%)"), r.RealImages.RPrecision.Mean),
                new(StudyFormat.Invariant($"random candidate ({r.RandomCandidate.RPrecision.Mean * 100:0.0}%)"), r.RandomCandidate.RPrecision.Mean),
                new(StudyFormat.Invariant($"chance ({r.Judge.CaptionChance * 100:0.0}%)"), r.Judge.CaptionChance),
            ],
        };
        var score = new LineChart
        {
            Title = "CLIPScore of the kept image", XLabel = "candidates reranked (log scale)", YLabel = "judge CLIPScore (w = 2.5)", LogX = true,
            Series = [StudyFormat.Series("CLIPScore of the kept image", xs, [.. r.Rows.Select(row => row.Judge.ClipScore)])],
            References =
            [
                new(StudyFormat.Invariant($"real held-out images ({r.RealImages.ClipScore.Mean:0.000})"), r.RealImages.ClipScore.Mean),
                new(StudyFormat.Invariant($"random candidate ({r.RandomCandidate.ClipScore.Mean:0.000})"), r.RandomCandidate.ClipScore.Mean),
            ],
        };
        return LinePlot.Panels([precision, score]);
    }

    static RgbImage Samples(RerankingStudyResult r)
    {
        var rows = new List<ContactSheetRow>();
        for (int m = 0; m < r.SampleImages.Count; m++)
        {
            var p = r.PerCaption[m];
            var images = r.SampleImages[m];
            var ranked = p.Candidates.Select((c, i) => (c, i)).OrderByDescending(t => t.c.RerankerCosine).ThenBy(t => t.i).Take(SampleTiles).ToList();
            var tiles = new List<ContactSheetTile> { StudyFormat.RealTile(p.Caption, p.Real, images[0]) };
            int keptAll = p.Kept[^1];
            tiles.AddRange(ranked.Select((t, rank) => new ContactSheetTile(images[t.i],
                StudyFormat.Invariant($"#{rank + 1} {t.c.RerankerCosine:0.000} {StudyFormat.Mark(t.c.Judge)}"), t.i == keptAll)));
            rows.Add(new ContactSheetRow(StudyFormat.Heading(p.Caption), tiles));
        }
        return ContactSheet.RenderRows(rows);
    }
}
