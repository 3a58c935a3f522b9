using System.CommandLine;
using System.Text.Json;
using SharpClip.Search;
using Spectre.Console;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip index</c>: create or update an image index (resumable; Ctrl+C keeps every committed batch).</summary>
public static class IndexCommand
{
    public static Command Create()
    {
        var folders = new Argument<string[]>("folders") { Description = "Folders to index (recursively)", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string>("--model") { Description = "CLIP checkpoint to embed with ('builtin:test-colors' is a toy for demos); default: the model the index was built with" };
        var index = new Option<string>("--index") { Description = "Index file (SQLite), created if missing", Required = true };
        var half = new Option<bool>("--half") { Description = "Store embeddings as float16 (half the size)" };
        var rebuild = new Option<bool>("--rebuild") { Description = "Drop all embeddings and re-embed everything (to change model or precision)" };
        var retry = new Option<bool>("--retry-failures") { Description = "Try again files that failed before although unchanged" };
        var batch = new Option<int>("--batch") { Description = "Images per batch and per committed transaction", DefaultValueFactory = _ => 32 };
        var json = new Option<bool>("--json") { Description = "Print a JSON summary instead of a progress bar" };
        var cmd = new Command("index", "Embed the images in folders into a searchable index; only new and changed files are embedded.");
        cmd.Arguments.Add(folders);
        foreach (var o in new Option[] { model, index, half, rebuild, retry, batch, json }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
            Console.CancelKeyPress += onCancel;
            try
            {
                using var idx = ImageIndex.Open(parse.GetValue(index)!, create: true);
                string? modelName = parse.GetValue(model);
                bool rebuilding = parse.GetValue(rebuild);
                if (modelName is null && idx.Metadata is null) throw new ArgumentException("--model is required for a new index");
                using var encoder = rebuilding ? EncoderResolver.Open(modelName ?? idx.Metadata!.Model) : OpenChecked(idx, modelName);
                var options = new IndexerOptions
                {
                    Precision = parse.GetValue(half) ? EmbeddingPrecision.Float16 : null,
                    Rebuild = rebuilding,
                    BatchSize = parse.GetValue(batch),
                    RetryFailures = parse.GetValue(retry),
                };
                string name = modelName ?? idx.Metadata!.Model;
                if (File.Exists(name)) name = Path.GetFullPath(name);
                var dirs = parse.GetValue(folders)!;
                IndexSummary summary;
                if (parse.GetValue(json) || Console.IsOutputRedirected)
                    summary = Indexer.Run(idx, encoder, name, dirs, options, null, cts.Token);
                else
                    summary = AnsiConsole.Progress()
                        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ImagesPerSecondColumn(),
                            new RemainingTimeColumn(), new ElapsedTimeColumn())
                        .Start(ctx =>
                        {
                            var task = ctx.AddTask("embedding", maxValue: 1);
                            return Indexer.Run(idx, encoder, name, dirs, options, new Reporter(task), cts.Token);
                        });
                foreach (var s in summary.Skipped.Take(5)) Console.Error.WriteLine($"sharpclip: skipped {s.Path}: {s.Reason}");
                if (summary.Skipped.Count > 5) Console.Error.WriteLine($"sharpclip: ... and {summary.Skipped.Count - 5} more skipped entries");
                if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(summary, CliJson.Options));
                else
                    Console.WriteLine($"{summary.Scanned} images found: {summary.Embedded} embedded, {summary.Reused} reused (same bytes), " +
                        $"{summary.Touched} re-stamped, {summary.Unchanged} unchanged, {summary.Removed} removed, {summary.Failed} failed " +
                        $"({summary.KnownFailures} known failures skipped) in {summary.Seconds:F1} s ({summary.ImagesPerSecond:F1} images/s)");
                return 0;
            }
            finally { Console.CancelKeyPress -= onCancel; }
        }));
        return cmd;
    }

    static IImageTextEncoder OpenChecked(ImageIndex index, string? model)
    {
        try { return EncoderResolver.OpenFor(index, model); }
        catch (ModelMismatchException e) { throw new InvalidOperationException(e.Message + " (--rebuild re-embeds everything with the new model)", e); }
    }

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
