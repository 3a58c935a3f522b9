using SharpClip.Tests.Search;

namespace SharpClip.Tests.Training;

/// <summary>
/// The README's main job through the real CLI: without npm it says why and falls back to the synthetic shapes, still
/// training, evaluating, indexing and searching; asked for emoji explicitly, it fails with one line naming npm.
/// (The emoji path itself needs the npm registry; docs/evaluation.md records a full run.) Run again in the same
/// folder — a newcomer's most common second command — it reuses the finished model; other settings are refused with
/// the way out named, and <c>--fresh</c> trains anew.
/// </summary>
public class QuickstartCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("sharpclip-quickstart-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>No npm on the PATH and an empty cache: the emoji data cannot be prepared.</summary>
    Dictionary<string, string> NoNpm() => new() { ["PATH"] = Path.Combine(_dir, "empty-path"), ["XDG_CACHE_HOME"] = Path.Combine(_dir, "cache") };

    (int Exit, string Out, string Err) Run(string[] args, Dictionary<string, string> env)
    {
        using var p = CliProcess.Start(args, env);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(true); throw new TimeoutException("quickstart did not finish"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void WithoutNpmItFallsBackToSyntheticShapesAndStillSearchesAndRunsAgain()
    {
        var outDir = Path.Combine(_dir, "run");
        var (exit, stdout, err) = Run(["quickstart", "--steps", "3", "--output", outDir], NoNpm());
        Assert.True(exit == 0, err + stdout);
        Assert.Contains("npm", stdout);                                  // says why
        Assert.Contains("falling back to the built-in synthetic shapes", stdout);
        Assert.Contains("zero_shot/", stdout);                           // per-task zero-shot accuracy
        Assert.Contains("4/4 indexed", stdout);
        Assert.True(File.Exists(Path.Combine(outDir, "model", "model.safetensors")), "no model folder");
        Assert.True(File.Exists(Path.Combine(outDir, "images.db")));
        Assert.Contains("search \"a red circle\"", stdout);
        RunningAgainReusesTheModel(outDir);
    }

    void RunningAgainReusesTheModel(string outDir)
    {
        var weights = Path.Combine(outDir, "model", "model.safetensors");
        var (trained, trainedAt) = (File.ReadAllBytes(weights), File.GetLastWriteTimeUtc(weights));
        string Losses() => string.Join(",", File.ReadLines(Path.Combine(outDir, "model", "metrics.jsonl")).Where(l => l.Contains("\"loss\"")));
        var lossesBefore = Losses();

        var (exit, stdout, err) = Run(["quickstart", "--steps", "3", "-o", outDir], NoNpm());
        Assert.True(exit == 0, err + stdout);
        Assert.Contains("reusing the finished run", stdout);
        Assert.Contains("4/4 indexed", stdout);
        Assert.Equal(trained, File.ReadAllBytes(weights));                   // not trained again
        Assert.Equal(trainedAt, File.GetLastWriteTimeUtc(weights));
        Assert.Equal(lossesBefore, Losses());

        // Other settings are not mixed into the earlier run; the one error line names the difference and --fresh.
        // (--out is the old spelling of -o/--output: it still works, with a note.)
        (exit, stdout, err) = Run(["quickstart", "--steps", "4", "--out", outDir], NoNpm());
        Assert.Equal(1, exit);
        Assert.Contains("--out is deprecated, use --output", err);
        var error = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("error"));
        Assert.Contains("steps 3 → 4", error);
        Assert.Contains("--fresh", error);

        (exit, stdout, err) = Run(["quickstart", "--steps", "4", "--fresh", "--output", outDir], NoNpm());
        Assert.True(exit == 0, err + stdout);
        Assert.Contains("deleted the earlier run", stdout);
        Assert.Equal(4, File.ReadLines(Path.Combine(outDir, "model", "metrics.jsonl")).Count(l => l.Contains("\"loss\"")));
    }

    [Fact]
    public void AskingForEmojiWithoutNpmIsOneClearError()
    {
        var (exit, stdout, err) = Run(["quickstart", "--data", "emoji", "--steps", "3", "--output", Path.Combine(_dir, "e")], NoNpm());
        Assert.NotEqual(0, exit);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("npm", line);
        Assert.DoesNotContain("2/4", stdout);                            // nothing trained
        var (badExit, _, badErr) = Run(["quickstart", "--data", "photos", "--output", Path.Combine(_dir, "b")], NoNpm());
        Assert.NotEqual(0, badExit);
        Assert.Contains("--data photos", badErr);
    }
}
