using System.Globalization;
using System.Text.Json;
using System.Text;
using SharpClip.Data;
using SharpClip.Plotting;
using SharpClip.Evaluation;

namespace SharpClip.Demos.Emoji;

/// <summary>
/// Writes a per-style evaluation as <c>styles.json</c> (every number, per seed), <c>styles.md</c> (one row per
/// style: zero-shot, few-shot, linear probe, retrieval; chance levels under the table) and one
/// <c>fewshot-&lt;style&gt;.png</c> per style (accuracy against shots with the zero-shot line, the paper's Figure 6),
/// plus the zero-shot group results as a robustness report (<see cref="RobustnessReport"/>).
/// </summary>
public static class StyleEvaluationReport
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <param name="directory">Created if missing; existing reports are replaced.</param>
    /// <param name="model">How the model was named (shown in the reports).</param>
    /// <param name="r">The evaluation.</param>
    /// <param name="command">The command line that produced the result, printed under the table so numbers come with how they were made.</param>
    public static IReadOnlyList<string> Write(string directory, string model, StyleEvaluationResult r, string? command = null)
    {
        Directory.CreateDirectory(directory);
        var files = new List<string>();
        var o = r.Options;
        var jsonPath = Path.Combine(directory, "styles.json");
        File.WriteAllText(jsonPath, JsonSerializer.Serialize(new
        {
            model, dataset = r.Dataset, command, seconds = r.Seconds,
            probeTask = o.ProbeTask, shots = o.Shots, seeds = o.Seeds,
            styles = r.Styles.Select(s => new
            {
                style = s.Style, role = s.Role,
                zeroShotGroups = Zs(s.Groups), zeroShotSubgroups = Zs(s.Subgroups), zeroShotProbeTask = Zs(s.ProbeTaskZeroShot),
                fewShot = s.FewShot.Select(p => new { shots = p.Shots, mean = p.MeanAccuracy, std = p.StdAccuracy, perSeed = p.PerSeed }),
                skipped = s.Skipped, failures = s.Failures,
                linearProbe = s.Probe is null ? null : new { c = s.Probe.C, validationAccuracy = s.Probe.ValidationAccuracy, testAccuracy = s.Probe.TestAccuracy, trainCount = s.Probe.TrainCount },
                retrieval = new
                {
                    images = s.Retrieval.Metrics.Images, texts = s.Retrieval.Metrics.Texts, skipped = s.Retrieval.Skipped,
                    imageToText = s.Retrieval.Metrics.ImageToText.ToDictionary(kv => $"R@{kv.Key}", kv => kv.Value),
                    textToImage = s.Retrieval.Metrics.TextToImage.ToDictionary(kv => $"R@{kv.Key}", kv => kv.Value),
                },
            }),
            wild = r.Wild.Select(w => new { name = w.Style, zeroShot = Zs(w.Result) }),
        }, Json));
        files.Add(jsonPath);

        var md = new StringBuilder();
        md.AppendLine("# Zero-shot, few-shot and retrieval per style\n");
        md.AppendLine(Inv($"Model: `{model}` · data: `{r.Dataset}` · {r.Seconds:F0} s\n"));
        var shotHeads = o.Shots.Select(k => $"{k}-shot").ToList();
        md.AppendLine("| style | role | zero-shot groups | zero-shot subgroups | " + string.Join(" | ", shotHeads)
            + (o.FullProbe ? " | linear probe" : "") + " | T→I R@1 | T→I R@5 | T→I R@10 | I→T R@1 | I→T R@10 |");
        md.AppendLine("|---|---|---:|---:|" + string.Concat(shotHeads.Select(_ => "---:|")) + (o.FullProbe ? "---:|" : "") + "---:|---:|---:|---:|---:|");
        foreach (var s in r.Styles)
        {
            var t2i = s.Retrieval.Metrics.TextToImage;
            var i2t = s.Retrieval.Metrics.ImageToText;
            md.AppendLine(Inv($"| {s.Style} | {s.Role ?? "–"} | {Pct(s.Groups.Metrics.Top1)} | {Pct(s.Subgroups.Metrics.Top1)} | ")
                + string.Join(" | ", s.FewShot.Select(p => Pct(p.MeanAccuracy)))
                + (o.FullProbe ? " | " + Pct(s.Probe?.TestAccuracy ?? double.NaN) : "")
                + Inv($" | {Pct(t2i[1])} | {Pct(t2i[5])} | {Pct(t2i[10])} | {Pct(i2t[1])} | {Pct(i2t[10])} |"));
        }
        if (r.Styles.Count > 0)
        {
            var first = r.Styles[0];
            int images = first.Retrieval.Metrics.Images;
            md.AppendLine();
            md.AppendLine(Inv($"Accuracy and recall in %. Chance: groups {Pct(first.Groups.Metrics.Chance)} ({first.Groups.Metrics.ClassCount} classes), ")
                + Inv($"subgroups {Pct(first.Subgroups.Metrics.Chance)} ({first.Subgroups.Metrics.ClassCount} classes), R@10 ≈ {Pct(10.0 / images)} ({images} images). ")
                + Inv($"Zero-shot prompts are averaged over templates; k-shot columns are logistic-regression probes on the {o.ProbeTask} task with k training images per class of that style, ")
                + Inv($"mean of {o.Seeds} seeds, C chosen on held-out training images by the 1e-6…1e6 sweep")
                + (o.FullProbe ? "; the linear probe uses every training image of the style (C chosen on its validation split)." : ".")
                + " Training, validation and test images are disjoint emoji identities.");
        }
        if (r.Wild.Count > 0)
        {
            md.AppendLine("\nOut of domain (own classes, zero-shot with the same prompts):\n");
            md.AppendLine("| set | images | classes | chance | balanced accuracy | top-1 |\n|---|---:|---:|---:|---:|---:|");
            foreach (var w in r.Wild)
                md.AppendLine(Inv($"| {w.Style} | {w.Result.Metrics.Count} | {w.Result.Metrics.ClassCount} | {Pct(w.Result.Metrics.Chance)} | {Pct(w.Result.Metrics.MeanPerClassRecall)} | {Pct(w.Result.Metrics.Top1)} |"));
        }
        if (command is not null) md.AppendLine($"\nMade by:\n\n```bash\n{command}\n```");
        foreach (var s in r.Styles.Where(s => s.FewShot.Count > 0))
        {
            var png = Path.Combine(directory, $"fewshot-{s.Style}.png");
            FewShotPlot.Render(s.FewShot, s.ProbeTaskZeroShot.Metrics.Top1, $"{s.Style}: {o.ProbeTask} accuracy vs shots").SavePng(png);
            files.Add(png);
        }
        if (r.Styles.Any(s => s.FewShot.Count > 0))
            md.AppendLine("\nFew-shot curves (zero-shot as the horizontal line): "
                + string.Join(" · ", r.Styles.Where(s => s.FewShot.Count > 0).Select(s => $"[{s.Style}](fewshot-{s.Style}.png)")));
        var mdPath = Path.Combine(directory, "styles.md");
        File.WriteAllText(mdPath, md.ToString());
        files.Insert(1, mdPath);
        if (r.Styles.Count > 0) files.AddRange(RobustnessReport.Write(directory, model, "emoji groups (test)", r.GroupsRobustness()));
        return files;
    }

    static object Zs(ZeroShotResult z) => new
    {
        images = z.Metrics.Count, skipped = z.Skipped, classes = z.Metrics.ClassCount,
        top1 = z.Metrics.Top1, top5 = z.Metrics.Top5, meanPerClassRecall = z.Metrics.MeanPerClassRecall,
    };

    static string Pct(double v) => double.IsNaN(v) ? "–" : (v * 100).ToString("0.0", CultureInfo.InvariantCulture);

    static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>The table as the CLI prints it (percentages, fixed columns), the console twin of styles.md.</summary>
    public static string ConsoleTable(StyleEvaluationResult r)
    {
        var text = new System.Text.StringBuilder();
        var o = r.Options;
        var head = $"{"style",-15} {"zs-grp",7} {"zs-sub",7}" + string.Concat(o.Shots.Select(k => $" {k + "-shot",7}")) + (o.FullProbe ? $" {"probe",7}" : "")
            + $" {"T→I@1",7} {"T→I@10",7} {"I→T@1",7} {"I→T@10",7}";
        text.AppendLine(head);
        foreach (var s in r.Styles)
        {
            string P(double v) => (v * 100).ToString("0.0", CultureInfo.InvariantCulture).PadLeft(7);
            text.AppendLine($"{s.Style,-15} {P(s.Groups.Metrics.Top1)} {P(s.Subgroups.Metrics.Top1)}" + string.Concat(s.FewShot.Select(p => " " + P(p.MeanAccuracy)))
                + (o.FullProbe ? " " + P(s.Probe?.TestAccuracy ?? double.NaN) : "")
                + $" {P(s.Retrieval.Metrics.TextToImage[1])} {P(s.Retrieval.Metrics.TextToImage[10])} {P(s.Retrieval.Metrics.ImageToText[1])} {P(s.Retrieval.Metrics.ImageToText[10])}");
        }
        foreach (var w in r.Wild)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{w.Style} (own {w.Result.Metrics.ClassCount} classes, chance {w.Result.Metrics.Chance:P1}): balanced accuracy {w.Result.Metrics.MeanPerClassRecall:P1}, top-1 {w.Result.Metrics.Top1:P1}"));
        if (r.Styles.Count > 0)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"% of test images; chance: groups {r.Styles[0].Groups.Metrics.Chance:P1}, subgroups {r.Styles[0].Subgroups.Metrics.Chance:P1}, R@10 {10.0 / r.Styles[0].Retrieval.Metrics.Images:P1}; probes on {o.ProbeTask}, {o.Seeds} seeds; {r.Seconds:F0} s"));
        return text.ToString();
    }
}
