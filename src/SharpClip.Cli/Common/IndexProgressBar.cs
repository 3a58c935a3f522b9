using SharpClip.Search;
using Spectre.Console;

namespace SharpClip.Cli;

/// <summary>The live bar of an indexing run on a terminal (done, %, images/s, time left, elapsed).</summary>
public static class IndexProgressBar
{
    /// <summary>Runs <paramref name="run"/> with a Spectre progress display fed by its reports.</summary>
    public static IndexSummary Show(Func<IProgress<IndexProgress>, IndexSummary> run) =>
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ImagesPerSecondColumn(),
                new RemainingTimeColumn(), new ElapsedTimeColumn())
            .Start(ctx => run(new Reporter(ctx.AddTask("embedding", maxValue: 1))));

    sealed class Reporter(ProgressTask task) : IProgress<IndexProgress>
    {
        public void Report(IndexProgress p)
        {
            task.MaxValue = Math.Max(1, p.Total);
            task.Value = p.Done;
            task.Description = p.Failed > 0 ? $"embedding ({p.Failed} failed)" : "embedding";
        }
    }

    /// <summary>Images per second from Spectre's own speed estimate (the task value counts images).</summary>
    sealed class ImagesPerSecondColumn : ProgressColumn
    {
        public override Spectre.Console.Rendering.IRenderable Render(Spectre.Console.Rendering.RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Markup(task.Speed is { } s ? $"{s:F1} img/s" : "-- img/s");
    }
}
