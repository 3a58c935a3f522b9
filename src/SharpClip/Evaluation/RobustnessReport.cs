using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SharpClip.Evaluation;

/// <summary>
/// Writes a robustness study as <c>robustness.json</c> and <c>robustness.md</c>: a wide table with one column per
/// style (as the CLIP paper lays out its distribution-shift results), then a long table with the drop from the
/// training styles, per-class recall and image counts.
/// </summary>
public static class RobustnessReport
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static IReadOnlyList<string> Write(string directory, string model, string task, RobustnessResult r)
    {
        Directory.CreateDirectory(directory);
        var md = new StringBuilder();
        md.AppendLine($"# Robustness across styles\n\nModel: `{model}` · task: {task} ({r.ClassNames.Count} classes, chance {1.0 / r.ClassNames.Count:P1}) · zero-shot top-1\n");
        md.AppendLine("| model | " + string.Join(" | ", r.Styles.Select(s => s.Style)) + " | mean under shift |");
        md.AppendLine("|---|" + string.Concat(r.Styles.Select(_ => "---:|")) + "---:|");
        md.AppendLine(Inv($"| {model} | {string.Join(" | ", r.Styles.Select(s => Pct(s.Result.Metrics.Top1)))} | {Pct(r.ShiftMean)} |"));
        md.AppendLine("\n| style | role | images | top-1 | Δ vs training styles | top-5 | mean per-class recall |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var s in r.Styles)
        {
            var m = s.Result.Metrics;
            md.AppendLine(Inv($"| {s.Style} | {s.Role ?? "–"} | {m.Count} | {Pct(m.Top1)} | {(m.Top1 - r.Reference) * 100:+0.0;-0.0;0.0} | {Pct(m.Top5)} | {Pct(m.MeanPerClassRecall)} |"));
        }
        md.AppendLine("\nPer-class recall:\n");
        md.AppendLine("| class | " + string.Join(" | ", r.Styles.Select(s => s.Style)) + " |");
        md.AppendLine("|---|" + string.Concat(r.Styles.Select(_ => "---:|")));
        for (int c = 0; c < r.ClassNames.Count; c++)
            md.AppendLine($"| {r.ClassNames[c]} | " + string.Join(" | ", r.Styles.Select(s => Pct(s.Result.Metrics.PerClass[c].Recall))) + " |");
        var mdPath = Path.Combine(directory, "robustness.md");
        File.WriteAllText(mdPath, md.ToString());
        var jsonPath = Path.Combine(directory, "robustness.json");
        File.WriteAllText(jsonPath, JsonSerializer.Serialize(new
        {
            model,
            task,
            classes = r.ClassNames,
            referenceTop1 = r.Reference,
            shiftMeanTop1 = r.ShiftMean,
            styles = r.Styles.Select(s => new
            {
                style = s.Style,
                role = s.Role,
                images = s.Result.Metrics.Count,
                skipped = s.Result.Skipped,
                top1 = s.Result.Metrics.Top1,
                top5 = s.Result.Metrics.Top5,
                meanPerClassRecall = s.Result.Metrics.MeanPerClassRecall,
                deltaTop1 = s.Result.Metrics.Top1 - r.Reference,
                perClassRecall = s.Result.Metrics.PerClass.Select(c => c.Recall),
            }),
        }, Json));
        return [jsonPath, mdPath];
    }

    static string Pct(double v) => double.IsNaN(v) ? "–" : (v * 100).ToString("0.0", CultureInfo.InvariantCulture);

    static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
