using System.Diagnostics;
using SharpClip.Tests.Search;

namespace SharpClip.Tests.Cli;

/// <summary>
/// SIGTERM (what <c>kill</c>, <c>docker stop</c> and schedulers send) stops a training the way Ctrl-C does: after the
/// current step, with a checkpoint to resume from. A run started in the background by a non-interactive shell
/// ignores SIGINT, so before this, <c>kill</c> was the only way to stop it, and it lost everything since the last save.
/// </summary>
public class TerminationSignalTests
{
    [Fact]
    public async Task SigtermStopsATrainingAfterItsStepAndSavesACheckpoint()
    {
        using var dir = new TempDir();
        string run = Path.Combine(dir.Path, "dvae");
        using var training = CliProcess.Start(["train-dvae", "--data", "synthetic:shapes:train", "--steps", "100000", "--batch-size", "4",
            "--save-every", "0", "--workers", "1", "--threads", "1", "-o", run]);
        var stdout = training.StandardOutput.ReadToEndAsync();
        var stderr = training.StandardError.ReadToEndAsync();
        try
        {
            string metrics = Path.Combine(run, "metrics.jsonl");
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (!(File.Exists(metrics) && File.ReadAllLines(metrics).Length >= 2))
            {
                if (training.HasExited) Assert.Fail("the training ended before it could be stopped: " + await stderr);
                Assert.True(DateTime.UtcNow < deadline, "the training logged no two steps within 90 s");
                await Task.Delay(100);
            }
            using (var kill = Process.Start("kill", ["-TERM", training.Id.ToString()])) await kill.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await training.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!training.HasExited) training.Kill(true);
        }
        Assert.Equal(130, training.ExitCode);
        Assert.Contains("--resume", await stdout);
        var checkpoints = Directory.GetDirectories(Path.Combine(run, "checkpoints"));
        Assert.Single(checkpoints);
    }
}
