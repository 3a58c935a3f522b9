using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SharpClip.Evaluation;

/// <summary>
/// Writes a robustness study as <c>robustness.json</c> and <c>robustness.md</c>: a wide table with one column per
/// style (as the CLIP paper lays out its distribution-shift results), then a long table with the drop from the
/// training styles, per-class recall and image counts; "wild" sets (their own classes) get a marked column of
/// balanced accuracy and a section of their own.
/// </summary>
public static class RobustnessReport
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static IReadOnlyList<string> Write(string directory, string model, string task, RobustnessResult r)
    {
        Directory.CreateDirectory(directory);
        var md = new StringBuilder();
        md.AppendLine($"# Robustness across styles\n\nModel: `{model}` · task: {task} ({r.ClassNames.Count} classes, chance {1.0 / r.ClassNames.Count:P1}) · zero-shot top-1\n");
        // Wild sets sit after a marker column: their own classes, so their figure is balanced accuracy, not top-1.
        var wildHead = string.Concat(r.Wild.Select(w => $" {w.Style} (wild)† |"));
        md.AppendLine("| model | " + string.Join(" | ", r.Styles.Select(s => s.Style)) + " | mean under shift |" + wildHead);
        md.AppendLine("|---|" + string.Concat(r.Styles.Select(_ => "---:|")) + "---:|" + string.Concat(r.Wild.Select(_ => "---:|")));
        md.AppendLine(Inv($"| {model} | {string.Join(" | ", r.Styles.Select(s => Pct(s.Result.Metrics.Top1)))} | {Pct(r.ShiftMean)} |{string.Concat(r.Wild.Select(w => $" {Pct(w.Result.Metrics.MeanPerClassRecall)} |"))}"));
        if (r.Wild.Count > 0)
            md.AppendLine("\n† A different class set: balanced accuracy (mean per-class recall) on the set's own classes, " +
                string.Join("; ", r.Wild.Select(w => Inv($"{w.Style}: {w.Result.Metrics.ClassCount} classes, chance {Pct(w.Result.Metrics.Chance)} %"))) +
                ". Not comparable with the style columns, nor part of the mean under shift.");
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
        foreach (var w in r.Wild)
        {
            var m = w.Result.Metrics;
            md.AppendLine(Inv($"\n## Wild: {w.Style} ({m.ClassCount} classes of its own, {m.Count} images)\n"));
            md.AppendLine("| balanced accuracy | chance | top-1 | top-5 |\n|---:|---:|---:|---:|");
            md.AppendLine(Inv($"| {Pct(m.MeanPerClassRecall)} | {Pct(m.Chance)} | {Pct(m.Top1)} | {Pct(m.Top5)} |"));
            md.AppendLine("\n| class | images | recall |\n|---|---:|---:|");
            foreach (var c in m.PerClass) md.AppendLine($"| {c.Name} | {c.Support} | {Pct(c.Recall)} |");
        }
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
            wild = r.Wild.Select(w => new
            {
                name = w.Style,
                classes = w.Result.Metrics.PerClass.Select(c => c.Name),
                images = w.Result.Metrics.Count,
                skipped = w.Result.Skipped,
                chance = w.Result.Metrics.Chance,
                balancedAccuracy = w.Result.Metrics.MeanPerClassRecall,
                top1 = w.Result.Metrics.Top1,
                top5 = w.Result.Metrics.Top5,
                perClassRecall = w.Result.Metrics.PerClass.Select(c => c.Recall),
                perClassImages = w.Result.Metrics.PerClass.Select(c => c.Support),
            }),
        }, Json));
        return [jsonPath, mdPath];
    }

    static string Pct(double v) => double.IsNaN(v) ? "–" : (v * 100).ToString("0.0", CultureInfo.InvariantCulture);

    static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>The study as the CLI prints it: one row per style (top-1, its drop from the training styles'), then the wild columns.</summary>
    /// <param name="result">The study.</param>
    /// <param name="files">The report files written, named in the summary line.</param>
    public static string ConsoleTable(RobustnessResult result, IReadOnlyList<string> files)
    {
        var text = new StringBuilder();
        text.AppendLine($"{"style",-16} {"role",-10} {"images",7} {"top-1",8} {"Δ",7} {"mpc-recall",10}");
        foreach (var s in result.Styles)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.Style,-16} {s.Role ?? "-",-10} {s.Result.Metrics.Count,7} {s.Result.Metrics.Top1,8:P2} {(s.Result.Metrics.Top1 - result.Reference) * 100,7:+0.0;-0.0;0.0} {s.Result.Metrics.MeanPerClassRecall,10:P2}"));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{result.ClassNames.Count} classes (chance {1.0 / result.ClassNames.Count:P1}); reports: {string.Join(", ", files)}"));
        foreach (var w in result.Wild)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"wild {w.Style}: {w.Result.Metrics.ClassCount} classes of its own (chance {w.Result.Metrics.Chance:P1}), {w.Result.Metrics.Count} images: balanced accuracy {w.Result.Metrics.MeanPerClassRecall:P2}, top-1 {w.Result.Metrics.Top1:P2}"));
        return text.ToString();
    }
}
