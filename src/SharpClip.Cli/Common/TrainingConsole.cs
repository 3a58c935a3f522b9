using SharpClip.Training;
using Spectre.Console;

namespace SharpClip.Cli;

/// <summary>
/// Shows a training run's <see cref="TrainingEvent"/>s: on a terminal, a live bar whose description is the latest step;
/// redirected, one step line in twenty (and the first and last). Messages, evaluations and checkpoints are lines
/// (<see cref="Terminal.Line"/>: coloured on a terminal, plain and unwrapped in a file).
/// Reports arrive synchronously on the training thread (Progress&lt;T&gt; would post them out of order).
/// </summary>
public sealed class TrainingConsole : IProgress<TrainingEvent>
{
    readonly ProgressTask? _bar;
    long _lastLogged = -1;

    TrainingConsole(ProgressTask? bar) => _bar = bar;

    /// <summary>Runs <paramref name="train"/> with a console reporter: a live bar on an interactive terminal, else lines.</summary>
    public static TrainingResult Show(Func<IProgress<TrainingEvent>, TrainingResult> train)
    {
        if (!Terminal.Out) return train(new TrainingConsole(null));
        return AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx => train(new TrainingConsole(ctx.AddTask("starting", autoStart: true, maxValue: 1))));
    }

    public void Report(TrainingEvent value)
    {
        switch (value)
        {
            case StepFinished { Metrics: var s } when _bar is not null:
                _bar.MaxValue = s.TotalSteps;
                _bar.Value = s.Step;
                _bar.Description = Markup.Escape(StepLine(s));
                break;
            case StepFinished { Metrics: var s }:
                long every = Math.Max(1, s.TotalSteps / 20);
                if (s.Step % every == 0 || s.Step == s.TotalSteps || _lastLogged < 0)
                {
                    Console.WriteLine(StepLine(s));
                    _lastLogged = s.Step;
                }
                break;
            case EvaluationFinished e:
                Terminal.Line($"eval @ {e.Step}  {Metrics(e.Metrics)}", "green");
                break;
            case CheckpointSaved c:
                Terminal.Line($"checkpoint {c.Directory}", "grey");
                break;
            case TrainingMessage { IsWarning: true } w:
                Terminal.Line($"warning: {w.Text}", "yellow");
                break;
            case TrainingMessage m:
                Terminal.Line(m.Text);
                break;
        }
    }

    /// <summary>The run's last lines: done or interrupted (with the command that resumes it), and the last evaluation.</summary>
    public static void Summarise(TrainingResult r)
    {
        var last = r.Losses.Count > 0 ? $", last loss {r.Losses[^1].Loss:F4}" : "";
        if (r.Interrupted)
            Terminal.Line($"interrupted at step {r.Position.Step}/{r.TotalSteps}{last}; resume with: sharpclip train --resume --output {r.OutputDirectory}", "yellow");
        else
            Terminal.Line($"done: {r.Position.Step} steps{last}; model folder {r.OutputDirectory}", "green");
        if (r.LastEvaluation is { } m) Console.WriteLine(Metrics(m));
    }

    static string StepLine(StepMetrics s) =>
        $"step {s.Step}/{s.TotalSteps}  loss {s.Loss:F4}  lr {s.LearningRate:E2}  scale {s.LogitScale:F1}  {s.SamplesPerSecond:F0} pairs/s" +
        $"  ETA {Math.Floor(s.Remaining.TotalHours):0}:{s.Remaining:mm\\:ss}";

    static string Metrics(IReadOnlyDictionary<string, double> m) => string.Join("  ", m.Select(kv => $"{kv.Key} {kv.Value:F3}"));
}
