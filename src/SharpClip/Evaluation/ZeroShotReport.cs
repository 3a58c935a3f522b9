using System.Globalization;
using System.Text;
using System.Text.Json;
using SharpClip.Plotting;

namespace SharpClip.Evaluation;

/// <summary>
/// Writes zero-shot results as <c>zeroshot.json</c> (machine), <c>zeroshot.md</c> (human) and, per dataset, the
/// confusion matrix as CSV and PNG. File names are derived from the dataset names, so one folder holds several.
/// </summary>
public static class ZeroShotReport
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Writes every file and returns their paths.</summary>
    public static IReadOnlyList<string> Write(string directory, string model, IReadOnlyList<ZeroShotResult> results)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        var md = new StringBuilder();
        md.AppendLine($"# Zero-shot classification\n\nModel: `{model}`\n");
        md.AppendLine("| dataset | images | classes | prompts/class | top-1 | top-5 | mean per-class recall | chance |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
            md.AppendLine(Inv($"| {r.Dataset} | {r.Metrics.Count} | {r.Metrics.ClassCount} | {r.PromptsPerClass:0.#} | {r.Metrics.Top1:P2} | {r.Metrics.Top5:P2} | {r.Metrics.MeanPerClassRecall:P2} | {r.Metrics.Chance:P2} |"));
        foreach (var r in results)
        {
            var slug = Slug(r.Dataset);
            var csv = Path.Combine(directory, $"confusion-{slug}.csv");
            var png = Path.Combine(directory, $"confusion-{slug}.png");
            WriteConfusionCsv(csv, r.Metrics);
            HeatMap.Confusion(r.Metrics.Confusion, r.Metrics.PerClass.Select(c => c.Name).ToList(), $"Zero-shot confusion: {r.Dataset}").SavePng(png);
            written.Add(csv);
            written.Add(png);
            md.AppendLine($"\n## {r.Dataset}\n");
            if (r.Skipped > 0) md.AppendLine($"{r.Skipped} unreadable image(s) left out.\n");
            md.AppendLine($"Confusion matrix (rows = true class, row-normalised): [{Path.GetFileName(png)}]({Path.GetFileName(png)}), counts in [{Path.GetFileName(csv)}]({Path.GetFileName(csv)}).\n");
            md.AppendLine("| class | images | recall | precision |");
            md.AppendLine("|---|---:|---:|---:|");
            foreach (var c in r.Metrics.PerClass)
                md.AppendLine(Inv($"| {c.Name} | {c.Support} | {Pct(c.Recall)} | {Pct(c.Precision)} |"));
        }
        var mdPath = Path.Combine(directory, "zeroshot.md");
        File.WriteAllText(mdPath, md.ToString());
        var jsonPath = Path.Combine(directory, "zeroshot.json");
        File.WriteAllText(jsonPath, JsonSerializer.Serialize(new
        {
            model,
            results = results.Select(r => new
            {
                dataset = r.Dataset,
                images = r.Metrics.Count,
                skipped = r.Skipped,
                classes = r.Metrics.ClassCount,
                promptsPerClass = r.PromptsPerClass,
                top1 = r.Metrics.Top1,
                top5 = r.Metrics.Top5,
                meanPerClassRecall = r.Metrics.MeanPerClassRecall,
                chance = r.Metrics.Chance,
                perClass = r.Metrics.PerClass,
                confusion = Enumerable.Range(0, r.Metrics.ClassCount).Select(i => Enumerable.Range(0, r.Metrics.ClassCount).Select(j => r.Metrics.Confusion[i, j]).ToArray()).ToArray(),
            }),
        }, Json));
        written.Insert(0, mdPath);
        written.Insert(0, jsonPath);
        return written;
    }

    /// <summary>Header row "true\predicted" then the class names; one row per true class with counts.</summary>
    public static void WriteConfusionCsv(string path, ClassificationMetrics m)
    {
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(",", m.PerClass.Select(c => Quote(c.Name)).Prepend("true\\predicted")));
        for (int i = 0; i < m.ClassCount; i++)
            sb.AppendLine(string.Join(",", Enumerable.Range(0, m.ClassCount).Select(j => m.Confusion[i, j].ToString(CultureInfo.InvariantCulture)).Prepend(Quote(m.PerClass[i].Name))));
        File.WriteAllText(path, sb.ToString());
    }

    static string Quote(string s) => s.IndexOfAny([',', '"', '\n']) >= 0 ? $"\"{s.Replace("\"", "\"\"")}\"" : s;

    static string Pct(double v) => double.IsNaN(v) ? "–" : v.ToString("P1", CultureInfo.InvariantCulture);

    static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>A file-name-safe version of a dataset name.</summary>
    public static string Slug(string name)
    {
        var s = new string(name.Select(ch => char.IsLetterOrDigit(ch) ? char.ToLowerInvariant(ch) : '-').ToArray());
        while (s.Contains("--")) s = s.Replace("--", "-");
        return s.Trim('-') is { Length: > 0 } t ? t : "dataset";
    }
}
