using SharpClip.Generation.Dalle.Training;
using SharpClip.Training;
using Spectre.Console;
using SharpClip.Generation.Training;

namespace SharpClip.Cli;

/// <summary>
/// Shows a generative run (dVAE, DALL-E, latent diffusion): one step line in twenty (and the first and last) with loss, its parts, samples/s and
/// ETA; messages and checkpoints as lines. Runs the training with Ctrl-C wired to stop after the current step and save.
/// </summary>
public sealed class GenerativeTrainingConsole : IProgress<TrainingEvent>
{
    long _lastLogged = -1;

    /// <summary>Runs <paramref name="train"/> with this reporter and Ctrl-C / SIGTERM (<see cref="CtrlC"/>); prints the summary; returns the exit code.</summary>
    public static int Run(string verb, Func<IProgress<TrainingEvent>, CancellationToken, GenerativeTrainingResult> train)
    {
        using var stop = new CtrlC("stopping after this step and saving a checkpoint (Ctrl-C again to kill)");
        var r = train(new GenerativeTrainingConsole(), stop.Token);
        var last = r.Losses.Count > 0 ? $", last loss {r.Losses[^1].Loss:F4}" : "";
        if (r.Interrupted)
            AnsiConsole.MarkupLineInterpolated($"[yellow]interrupted at step {r.Step}/{r.TotalSteps}{last}; resume with: sharpclip {verb} --resume --output {r.OutputDirectory}[/]");
        else
            AnsiConsole.MarkupLineInterpolated($"[green]done: {r.Step} steps{last}[/]; model folder {r.OutputDirectory}");
        return r.Interrupted ? CliErrors.Cancelled : 0;
    }

    public void Report(TrainingEvent value)
    {
        switch (value)
        {
            case GenerativeStepFinished { Metrics: var s }:
                if (s.Step % Math.Max(1, s.TotalSteps / 20) != 0 && s.Step != s.TotalSteps && _lastLogged >= 0) break;
                var parts = string.Join("  ", s.Values.Select(v => $"{v.Name} {v.Value:G4}"));
                Console.WriteLine($"step {s.Step}/{s.TotalSteps}  loss {s.Loss:F4}  {parts}  lr {s.LearningRate:E2}  {s.SamplesPerSecond:F0} samples/s" +
                                  $"  ETA {Math.Floor(s.Remaining.TotalHours):0}:{s.Remaining:mm\\:ss}");
                _lastLogged = s.Step;
                break;
            case CheckpointSaved c:
                AnsiConsole.MarkupLineInterpolated($"[grey]checkpoint {c.Directory}[/]");
                break;
            case TrainingMessage { IsWarning: true } w:
                AnsiConsole.MarkupLineInterpolated($"[yellow]warning: {w.Text}[/]");
                break;
            case TrainingMessage m:
                AnsiConsole.MarkupLineInterpolated($"{m.Text}");
                break;
        }
    }
}
