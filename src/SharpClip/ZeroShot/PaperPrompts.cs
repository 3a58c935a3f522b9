namespace SharpClip.ZeroShot;

/// <summary>
/// Where the CLIP paper's prompt collection (<c>clip_prompts.json</c>: 27 datasets' classes and templates, ImageNet's
/// 80 among them) is found: <c>CLIP_PROMPTS</c>, else a <c>shared/prompts/</c> folder above the working directory or
/// the program. The one place that looks; packaging the file with the library (issue 17) replaces the search here.
/// </summary>
public static class PaperPrompts
{
    /// <summary>The prompts file's path, or null when there is none to be found.</summary>
    public static string? FindFile()
    {
        if (Environment.GetEnvironmentVariable("CLIP_PROMPTS") is { Length: > 0 } env) return env;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "prompts", "clip_prompts.json");
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }
}
