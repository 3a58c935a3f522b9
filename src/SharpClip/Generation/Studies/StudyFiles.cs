using System.Text.Json.Nodes;
using SharpClip.Vision;

namespace SharpClip.Generation.Studies;

/// <summary>The files a study report leaves; no sample grid when the study kept no samples.</summary>
public sealed record StudyFiles(string Json, string Markdown, string Plot, string? Samples)
{
    /// <summary>The paths written, for a console line.</summary>
    public IEnumerable<string> All => Samples is null ? [Json, Markdown, Plot] : [Json, Markdown, Plot, Samples];

    /// <summary>
    /// Writes a study's report as <c>{study}.json</c>, <c>{study}.md</c>, <c>{study}.png</c> and, when it kept samples,
    /// <c>{study}-samples.png</c> in <paramref name="directory"/> (made if missing).
    /// </summary>
    internal static StudyFiles Write(string directory, string study, JsonObject json, string markdown, RgbImage plot, RgbImage? samples)
    {
        Directory.CreateDirectory(directory);
        var files = new StudyFiles(Path.Combine(directory, $"{study}.json"), Path.Combine(directory, $"{study}.md"),
            Path.Combine(directory, $"{study}.png"), samples is null ? null : Path.Combine(directory, $"{study}-samples.png"));
        File.WriteAllText(files.Json, json.ToJsonString(StudyFormat.Json));
        File.WriteAllText(files.Markdown, markdown);
        plot.SavePng(files.Plot);
        samples?.SavePng(files.Samples!);
        return files;
    }
}
