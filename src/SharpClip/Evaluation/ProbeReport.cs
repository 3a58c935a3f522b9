using System.Globalization;
using System.Text;
using System.Text.Json;
using SharpClip.Plotting;

namespace SharpClip.Evaluation;

/// <summary>Writes <c>probe.json</c>, <c>probe.md</c> and <c>fewshot.png</c> (accuracy against shots, zero-shot as a line).</summary>
public static class ProbeReport
{
    public static IReadOnlyList<string> Write(string directory, string model, string train, string test, ProbeResult probe, double probeSeconds,
        IReadOnlyList<FewShotPoint> fewShot, double zeroShotTop1)
    {
        Directory.CreateDirectory(directory);
        var json = Path.Combine(directory, "probe.json");
        File.WriteAllText(json, JsonSerializer.Serialize(new
        {
            model, train, test,
            linearProbe = new
            {
                c = probe.C, validationAccuracy = probe.ValidationAccuracy, testAccuracy = probe.TestAccuracy, trainCount = probe.TrainCount,
                fitSeconds = probeSeconds, finalFitSeconds = probe.FinalFitSeconds,
                sweep = probe.Sweep.Coarse.Select(p => (Stage: "coarse", Probe: p)).Concat(probe.Sweep.Refined.Select(p => (Stage: "refined", Probe: p)))
                    .Select(x => new { stage = x.Stage, c = x.Probe.C, validationAccuracy = x.Probe.ValidationAccuracy, iterations = x.Probe.Iterations, seconds = x.Probe.Seconds }),
            },
            zeroShotTop1,
            fewShot = fewShot.Select(p => new { shots = p.Shots, mean = p.MeanAccuracy, std = p.StdAccuracy, perSeed = p.PerSeed }),
        }, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
        var png = Path.Combine(directory, "fewshot.png");
        FewShotPlot.Render(fewShot, zeroShotTop1, $"Few-shot linear probe vs zero-shot: {test}").SavePng(png);
        var md = new StringBuilder();
        md.AppendLine($"# Linear probe and few-shot\n\nModel: `{model}`; train `{train}`, test `{test}`.\n");
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Linear probe (C = {probe.C:G3} from the validation sweep): **{probe.TestAccuracy:P2}** test accuracy ({probe.ValidationAccuracy:P2} on validation, {probe.TrainCount} training images).\n"));
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Zero-shot: **{zeroShotTop1:P2}** (red dashed line in the plot).\n"));
        md.AppendLine("| shots per class | mean accuracy | std over seeds |\n|---:|---:|---:|");
        foreach (var p in fewShot) md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {p.Shots} | {p.MeanAccuracy:P2} | {p.StdAccuracy:P2} |"));
        md.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"\nC sweep ({probe.Sweep.Coarse.Count} powers of ten, then {probe.Sweep.Refined.Count} values around the best; {probeSeconds:F1} s in all, final fit {probe.FinalFitSeconds:F2} s):\n"));
        md.AppendLine("| C | validation accuracy | L-BFGS iterations |\n|---:|---:|---:|");
        foreach (var p in probe.Sweep.All.OrderBy(p => p.C))
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {p.C:G3}{(p.C == probe.C ? " (chosen)" : "")} | {p.ValidationAccuracy:P2} | {p.Iterations} |"));
        md.AppendLine($"\n![accuracy against shots](fewshot.png)");
        var mdPath = Path.Combine(directory, "probe.md");
        File.WriteAllText(mdPath, md.ToString());
        return [json, mdPath, png];
    }
}
