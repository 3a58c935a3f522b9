using System.CommandLine;
using System.Text.Json;
using SharpClip.Search;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip index</c>: create or update an image index (resumable; Ctrl+C keeps every committed batch).</summary>
public static class IndexCommand
{
    public static Command Create()
    {
        var folders = new Argument<string[]>("folders") { Description = "Folders to index (recursively)", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string>("--model", "-m") { Description = "CLIP checkpoint to embed with ('builtin:test-colors' is a toy for demos); default: the model the index was built with" };
        var index = new Option<string>("--index") { Description = "Index file (SQLite), created if missing", Required = true };
        var half = new Option<bool>("--half") { Description = "Store embeddings as float16 (half the size)" };
        var rebuild = new Option<bool>("--rebuild") { Description = "Drop all embeddings and re-embed everything (to change model or precision)" };
        var retry = new Option<bool>("--retry-failures") { Description = "Try again files that failed before although unchanged" };
        var batch = OldSpellings.Alias(new Option<int>("--batch-size") { Description = "Images per batch and per committed transaction", DefaultValueFactory = _ => 32 }, "--batch");
        var json = new Option<bool>("--json") { Description = "Print a JSON summary instead of a progress bar" };
        var cmd = new Command("index", "Embed the images in folders into a searchable index; only new and changed files are embedded.");
        cmd.Arguments.Add(folders);
        foreach (var o in new Option[] { model, index, half, rebuild, retry, batch, json }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            using var ctrlC = new CtrlC();
            using var idx = ImageIndex.Open(parse.GetValue(index)!, create: true);
            if (parse.GetValue(model) is null && idx.Metadata is null) throw new ArgumentException("--model is required for a new index");
            using var encoder = OpenEncoder(idx, parse.GetValue(model), parse.GetValue(rebuild));
            var options = new IndexerOptions
            {
                Precision = parse.GetValue(half) ? EmbeddingPrecision.Float16 : null,
                Rebuild = parse.GetValue(rebuild),
                BatchSize = parse.GetValue(batch),
                RetryFailures = parse.GetValue(retry),
            };
            IndexSummary Run(IProgress<IndexProgress>? progress) =>
                Indexer.Run(idx, encoder.Encoder, encoder.Model, parse.GetValue(folders)!, options, progress, ctrlC.Token);
            var summary = parse.GetValue(json) || !Terminal.Out ? Run(null) : IndexProgressBar.Show(Run);
            foreach (var s in summary.Skipped.Take(5)) Console.Error.WriteLine($"sharpclip: skipped {s.Path}: {s.Reason}");
            if (summary.Skipped.Count > 5) Console.Error.WriteLine($"sharpclip: ... and {summary.Skipped.Count - 5} more skipped entries");
            if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(summary, CliJson.Options));
            else
                Console.WriteLine($"{summary.Scanned} images found: {summary.Embedded} embedded, {summary.Reused} reused (same bytes), " +
                    $"{summary.Touched} re-stamped, {summary.Unchanged} unchanged, {summary.Removed} removed, {summary.Failed} failed " +
                    $"({summary.KnownFailures} known failures skipped) in {summary.Seconds:F1} s ({summary.ImagesPerSecond:F1} images/s)");
            return ExitCodes.Success;
        }));
        return cmd;
    }

    /// <summary><see cref="IndexModel.Open"/>, its mismatch error telling the user how to switch models.</summary>
    static IndexEncoder OpenEncoder(ImageIndex index, string? model, bool rebuild)
    {
        try { return IndexModel.Open(index, model, rebuild); }
        catch (ModelMismatchException e) { throw new InvalidOperationException(e.Message + " (--rebuild re-embeds everything with the new model)", e); }
    }
}
