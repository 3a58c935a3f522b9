using System.CommandLine;

namespace SharpClip.Cli;

/// <summary>Flags and messages the <c>eval</c> verbs share: where reports and caches go, k-shot sizes, unreadable images.</summary>
public static class EvalFlags
{
    public static Option<string> Output() =>
        OldSpellings.Alias(new Option<string>("--output", "-o") { Description = "Folder for the reports (JSON, Markdown, CSV, PNG).", Required = true }, "--out");

    public static Option<string?> Cache() => new("--cache") { Description = "Folder for cached features and classifier weights (default: OUTPUT/cache); 'none' disables." };

    /// <summary>The <c>--cache</c> value as a folder: OUTPUT/cache when not given, null (no cache) for 'none'.</summary>
    public static string? CacheDirectory(string? value, string outDir) =>
        value is null ? Path.Combine(outDir, "cache") : value.Equals("none", StringComparison.OrdinalIgnoreCase) ? null : value;

    /// <summary>"1,2,4" → [1, 2, 4] (sorted, distinct); every entry a positive integer; an empty value only with <paramref name="allowNone"/>.</summary>
    public static IReadOnlyList<int> Shots(string value, bool allowNone) =>
        allowNone && string.IsNullOrWhiteSpace(value) ? []
        : value.Split(',').Select(s => int.TryParse(s.Trim(), out var n) && n > 0 ? n : throw new ArgumentException($"--shots: '{s}' is not a positive integer"))
            .Distinct().Order().ToList();

    /// <summary>
    /// One stderr warning per set with unreadable images (the first three named), and the exit code:
    /// <see cref="ExitCodes.SomeInputsFailed"/> when any image was left out of the numbers, else success.
    /// </summary>
    public static int WarnSkipped(IEnumerable<(string What, int Skipped, IReadOnlyList<string> Failures)> sets)
    {
        bool any = false;
        foreach (var (what, skipped, failures) in sets.Where(s => s.Skipped > 0))
        {
            any = true;
            Console.Error.WriteLine($"warning: {what}: {skipped} image reads failed; those images are left out of its numbers");
            foreach (var f in failures.Take(3)) Console.Error.WriteLine($"  {f}");
        }
        return any ? ExitCodes.SomeInputsFailed : ExitCodes.Success;
    }
}
