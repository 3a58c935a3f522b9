using SharpClip.Demos;
using SharpClip.Demos.Emoji;
using SharpClip.Training;

namespace SharpClip.Cli;

/// <summary>
/// The narration on stdout, data preparation and training as progress bars on stderr (each ended by the next line
/// of narration), the per-style evaluation's activity redrawn in place on a terminal (a line each into a file) and its table.
/// </summary>
internal sealed class QuickstartConsole : IProgress<QuickstartEvent>, IDisposable
{
    StageProgress? _preparing;
    ConsoleProgress? _training;

    public void Report(QuickstartEvent value)
    {
        if (value is not QuickstartPreparing) { _preparing?.Dispose(); _preparing = null; }
        if (value is not QuickstartTraining) { _training?.Dispose(); _training = null; }
        switch (value)
        {
            case QuickstartNote note:
                Console.WriteLine(note.Text);
                break;
            case QuickstartPreparing p:
                (_preparing ??= new StageProgress()).Report(p.Stage, p.Done, p.Total);
                break;
            case QuickstartTraining t:
                _training ??= new ConsoleProgress("steps", (int)t.TotalSteps);   // from the run's first report, so setup counts in the rate
                if (t.Event is StepFinished s) _training.Report((int)s.Metrics.Step);
                break;
            case QuickstartEvaluating e when Terminal.Out:
                Console.Write($"\r    {e.Activity,-60}");
                break;
            case QuickstartEvaluating e:
                Console.WriteLine($"    {e.Activity}");
                break;
            case QuickstartStyleTable table:
                if (Terminal.Out) Console.Write($"\r{new string(' ', 70)}\r");
                Console.Write(StyleEvaluationReport.ConsoleTable(table.Table));
                break;
        }
    }

    public void Dispose()
    {
        _preparing?.Dispose();
        _training?.Dispose();
    }
}
