using SharpClip.Tests.Search;

namespace SharpClip.Tests.Training;

/// <summary>
/// The README's main job through the real CLI: without npm it says why and falls back to the synthetic shapes, still
/// training, evaluating, indexing and searching; asked for emoji explicitly, it fails with one line naming npm.
/// (The emoji path itself needs the npm registry; docs/evaluation.md records a full run.)
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
    public void WithoutNpmItFallsBackToSyntheticShapesAndStillSearches()
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
