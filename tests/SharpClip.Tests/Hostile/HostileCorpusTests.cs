using System.Text;
using Xunit.Abstractions;

namespace SharpClip.Tests.Hostile;

/// <summary>
/// Runs every input of <see cref="HostileCorpus"/> through the entry point that reads it, under a deadline: it must
/// finish, and fail with one clear exception naming the file or field (or report the item skipped) — never a hang,
/// never a .NET or libtorch exception type that only a developer can read.
/// </summary>
public sealed class HostileCorpusTests(ITestOutputHelper output)
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>Words that mean the message is the machinery's, not ours: libvips call names, .NET type names, stack frames.</summary>
    static readonly string[] Jargon = ["Vips", "unable to call", "System.", "   at ", "Exception"];

    public static IEnumerable<object[]> Inputs => HostileCorpus.All.Select(i => new object[] { i.ToString() });

    [Theory, MemberData(nameof(Inputs))]
    public async Task EachInputFinishesWithOneClearAnswer(string input)
    {
        var result = await RunAsync(HostileCorpus.Named(input));
        output.WriteLine($"{result.Outcome}: {result.Detail}");
        Assert.True(result.AsExpected, $"expected {result.Input.Expect}, got {result.Outcome}: {result.Detail}");
    }

    [Fact]
    public async Task SummaryPerCategoryHasNoHangsOrCrashes()
    {
        var results = new List<HostileResult>();
        foreach (var input in HostileCorpus.All) results.Add(await RunAsync(input));
        var table = Summary(results);
        output.WriteLine(table);
        var file = Path.Combine(Path.GetTempPath(), "sharpclip-hostile-corpus-summary.md");
        await File.WriteAllTextAsync(file, table);
        output.WriteLine($"(written to {file})");
        Assert.DoesNotContain(results, r => r.Outcome is Outcome.Hang or Outcome.Crash);
    }

    /// <summary>One input in a fresh folder: made, read within the deadline, and judged.</summary>
    public static async Task<HostileResult> RunAsync(HostileInput input)
    {
        using var dir = new TempDir();
        var path = input.Make(dir.Path);
        var mention = input.Mentions ?? Path.GetFileName(path);
        var work = Task.Run(() => input.Reader.Read(path));
        if (await Task.WhenAny(work, Task.Delay(Deadline)) != work)
            return new(input, Outcome.Hang, $"{input.Reader.Name} gave no answer within {Deadline.TotalSeconds} s");
        try
        {
            var skipped = await work;
            if (skipped.Count == 0) return new(input, Outcome.Read, "read without complaint");
            var details = string.Join("; ", skipped);
            return new(input, details.Contains(mention, StringComparison.Ordinal) ? Outcome.Skipped : Outcome.UnclearError,
                $"skipped {skipped.Count}: {details}");
        }
        catch (Exception e)
        {
            var what = $"{e.GetType().Name}: {e.Message}";
            if (!input.Reader.IsClear(e)) return new(input, Outcome.Crash, what + "\n" + e.StackTrace);
            if (!e.Message.Contains(mention, StringComparison.Ordinal)) return new(input, Outcome.UnclearError, $"does not mention '{mention}': {what}");
            if (Jargon.FirstOrDefault(j => e.Message.Contains(j, StringComparison.Ordinal)) is { } jargon)
                return new(input, Outcome.UnclearError, $"says '{jargon}': {what}");
            return new(input, Outcome.CleanError, what);
        }
    }

    /// <summary>A Markdown table: per category, inputs tried and what became of them.</summary>
    public static string Summary(IReadOnlyList<HostileResult> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| category | inputs | clean errors | skipped | read (valid) | unclear errors | hangs | crashes | not as expected |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var group in results.GroupBy(r => r.Input.Category).Append(results.GroupBy(_ => (HostileCategory)(-1)).Single()))
        {
            int Count(Outcome o) => group.Count(r => r.Outcome == o);
            var name = (int)group.Key == -1 ? "**all**" : group.Key.ToString();
            sb.AppendLine($"| {name} | {group.Count()} | {Count(Outcome.CleanError)} | {Count(Outcome.Skipped)} | {Count(Outcome.Read)} | " +
                $"{Count(Outcome.UnclearError)} | {Count(Outcome.Hang)} | {Count(Outcome.Crash)} | {group.Count(r => !r.AsExpected)} |");
        }
        foreach (var r in results.Where(r => !r.AsExpected))
            sb.AppendLine($"- not as expected: {r.Input} → {r.Outcome}: {r.Detail.Split('\n')[0]}");
        return sb.ToString();
    }
}
