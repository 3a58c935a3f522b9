using System.CommandLine;
using System.Globalization;
using SharpClip.Data;
using SharpClip.Demos.Emoji;
using SharpClip.Demos.OpenClipart;
using SharpClip.Evaluation;
using SharpClip.Demos.Synthetic;
using SharpClip.Pipelines;
using SharpClip.Search;
using SharpClip.Training;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip quickstart [--out DIR] [--steps N]</c>: the whole of CLIP in a few minutes on a laptop CPU, offline —
/// train a small CLIP on the built-in synthetic shapes, report zero-shot accuracy (including colour×shape pairs it
/// never saw) and retrieval recall, then index a folder of images with the new model and search it by text.
/// Every step is a library call; the model folder it leaves behind works with every other verb.
/// </summary>
public static class QuickstartCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Folder for the model, its metrics and the search demo.", DefaultValueFactory = _ => Path.Combine("runs", "quickstart") };
        var steps = new Option<int?>("--steps") { Description = "Training steps (default: 1000 of 128 pairs on emoji, 400 of 64 on synthetic shapes)." };
        var data = new Option<string>("--data") { Description = "auto (emoji when npm can fetch it, else synthetic), emoji or synthetic.", DefaultValueFactory = _ => "auto" };
        var seed = new Option<int>("--seed") { Description = "Seed for data, initialisation and order.", DefaultValueFactory = _ => 1 };
        var cmd = new Command("quickstart", "Train a small CLIP on built-in data, evaluate it zero-shot, and search images with it (offline, a few minutes).");
        cmd.Options.Add(output);
        cmd.Options.Add(steps);
        cmd.Options.Add(seed);
        cmd.Options.Add(data);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            string root = Path.GetFullPath(parse.GetValue(output)!);
            int? n = parse.GetValue(steps);
            if (n is < 1) throw new ArgumentException($"--steps {n}: must be at least 1");
            var which = parse.GetValue(data)!.ToLowerInvariant();
            if (which is not ("auto" or "emoji" or "synthetic")) throw new ArgumentException($"--data {which}: expected auto, emoji or synthetic");
            using var cancel = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
            int seedValue = parse.GetValue(seed);

            if (which != "synthetic")
            {
                Console.WriteLine($"1/4 preparing the emoji data (pinned npm packages, cached in {EmojiDataset.DefaultDirectory})");
                EmojiPrepareResult? prepared = null;
                try
                {
                    using var progress = new DatasetsCommand.StageProgress();
                    prepared = EmojiDataset.Prepare(null, new SyncProgress<EmojiPrepareProgress>(p => progress.Report(p.Stage, p.Done, p.Total)), cancel.Token);
                }
                catch (Exception e) when (which == "auto" && e is InvalidOperationException or NotSupportedException or IOException or InvalidDataException)
                {
                    Console.WriteLine($"    the emoji data is not available ({e.Message})");
                    Console.WriteLine("    falling back to the built-in synthetic shapes (no network needed)");
                }
                if (prepared is not null)
                {
                    IReadOnlyList<StyleSet> wild = [];
                    try
                    {
                        Console.WriteLine("    and the OpenClipart drawings (Debian's openclipart-svg) as an out-of-domain test");
                        using var progress = new DatasetsCommand.StageProgress();
                        var clipart = OpenClipartDataset.Prepare(null, new SyncProgress<OpenClipartProgress>(p => progress.Report(p.Stage, p.Done, p.Total)), cancel.Token);
                        wild = [EmojiStyleSets.OpenWild(clipart.Directory, "openclipart")];
                    }
                    catch (Exception e) when (e is InvalidOperationException or NotSupportedException or IOException or InvalidDataException)
                    {
                        Console.WriteLine($"    OpenClipart skipped ({e.Message})");
                    }
                    return RunEmoji(prepared.Directory, wild, root, n ?? 1000, seedValue, cancel.Token);
                }
            }
            return RunSynthetic(root, n ?? 400, seedValue, cancel.Token);
        }));
        return cmd;
    }

    /// <summary>Emoji: train on the Google/Twitter training identities, then the per-style table and a search demo.</summary>
    static int RunEmoji(string emojiRoot, IReadOnlyList<StyleSet> wild, string root, int steps, int seed, CancellationToken cancel)
    {
        var config = TrainingRecipes.Emoji(Path.Combine(root, "model"), steps, seed);
        Console.WriteLine($"2/4 training a tiny CLIP on the emoji training styles (google, twitter): {steps} steps of {config.BatchSize} pairs -> {config.Output}");
        var result = Train(config, cancel);
        if (result.LastEvaluation is { } last)
            Console.WriteLine("    validation retrieval: " + string.Join("  ", last.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key.Replace("retrieval/", "")} {kv.Value:P1}"))));

        Console.WriteLine("3/4 evaluation on held-out emoji identities, every style (zero-shot, few-shot probes, retrieval)");
        var reportDir = Path.Combine(root, "report");
        StyleEvaluationResult table;
        using (var pipeline = ClipPipeline.Load(config.Output))
        {
            // 1/4/16-shot probes over 3 seeds; the finer curve and the full linear probe are left to `eval styles`.
            var options = new StyleEvaluationOptions { Shots = [1, 4, 16], Seeds = 3, FullProbe = false, Wild = wild, CacheDirectory = Path.Combine(reportDir, "cache") };
            table = StyleEvaluator.Run(pipeline, emojiRoot, options, new SyncProgress<string>(m => Console.Write($"\r    {m,-60}")), cancel);
            Console.Write($"\r{new string(' ', 70)}\r");
            StyleEvaluationReport.Write(reportDir, config.Output, table,
                $"sharpclip eval styles --model {config.Output} --data-root {emojiRoot} --shots 1,4,16 --seeds 3 --no-linear-probe -o {reportDir}");
        }
        EvalStylesCommand.Print(table);
        Console.WriteLine($"    reports: {Path.Combine(reportDir, "styles.md")} (all evaluations per style), {Path.Combine(reportDir, "robustness.md")} (zero-shot drop under shift)");

        // 4. Search: the held-out images of a training style and a far-shift style, indexed with the new model.
        var images = Path.Combine(root, "search-images");
        foreach (var style in new[] { "google", "openmoji" })
        {
            var dir = Path.Combine(images, style);
            Directory.CreateDirectory(dir);
            foreach (var sample in ImageTextSources.Open(EmojiDataset.TestJsonl(emojiRoot, style)).ReadAll(null, cancel))
                if (sample.Image is ImageFile file && !File.Exists(Path.Combine(dir, Path.GetFileName(file.Path))))
                {
                    File.Copy(file.Path, Path.Combine(dir, Path.GetFileName(file.Path)));
                    File.WriteAllText(Path.ChangeExtension(Path.Combine(dir, Path.GetFileName(file.Path)), ".txt"), sample.Captions[0]);
                }
        }
        return Search(config.Output, root, images, ["a red heart", "a blue heart", "a monkey face", "a Christmas tree"], cancel);
    }

    /// <summary>Synthetic shapes: offline, ~1 minute; zero-shot per task including colour×shape pairs never seen in training.</summary>
    static int RunSynthetic(string root, int steps, int seed, CancellationToken cancel)
    {
        var synthetic = new SyntheticShapesOptions { ImageSize = 32, Supersampling = 2, Seed = seed };
        var config = new TrainingConfig
        {
            Model = "tiny", ContextLength = 24, VocabSamples = 5000,
            DataOptions = SyntheticShapesSpec.Options(synthetic),
            Data = "synthetic:shapes:train", EvalData = "synthetic:shapes:validation", EvalSamples = 1000,
            BatchSize = 64, Steps = steps, WarmupSteps = Math.Min(50, steps / 5), LearningRate = 1e-3,
            EvalEvery = 0, SaveEvery = 0, Seed = seed,
            Output = Path.Combine(root, "model"),
        };
        Console.WriteLine($"2/4 training a tiny CLIP on synthetic shapes: {steps} steps of 64 pairs -> {config.Output}");
        var result = Train(config, cancel);

        var tasks = new SyntheticShapes(synthetic);
        Console.WriteLine("3/4 evaluation on the validation split (zero-shot accuracy vs chance; retrieval recall)");
        foreach (var (name, value) in result.LastEvaluation ?? new Dictionary<string, double>())
        {
            var task = tasks.ZeroShotTasks.FirstOrDefault(t => name.EndsWith("/" + t.Name, StringComparison.Ordinal));
            Console.WriteLine($"    {name,-38} {value,6:P1}" + (task is null ? "" : $"   (chance {task.Chance:P1})"));
        }

        var images = Path.Combine(root, "search-images");
        if (!Directory.Exists(images))
            SyntheticShapesExporter.Export(tasks.Split(SyntheticSplit.HeldOut), images, SyntheticExportFormat.Folder, cancellationToken: cancel);
        return Search(config.Output, root, images, ["a red circle", "two blue squares", "a large green star"], cancel);
    }

    static TrainingResult Train(TrainingConfig config, CancellationToken cancel)
    {
        TrainingResult result;
        using (var bar = new ConsoleProgress("steps", (int)config.Steps!.Value))
            result = Trainer.Run(config, new SyncProgress<TrainingEvent>(e => { if (e is StepFinished s) bar.Report((int)s.Metrics.Step); }), cancel, TrainingEvaluator.Create);
        Console.WriteLine($"    loss {result.Losses[0].Loss:F3} -> {result.Losses[^1].Loss:F3}");
        return result;
    }

    /// <summary>Indexes <paramref name="images"/> with the new model and runs a few text queries.</summary>
    static int Search(string model, string root, string images, IReadOnlyList<string> queries, CancellationToken cancel)
    {
        var indexPath = Path.Combine(root, "images.db");
        using var encoder = ClipImageTextEncoder.Open(model);
        using (var index = ImageIndex.Open(indexPath, create: true))
        {
            var summary = Indexer.Run(index, encoder, model, [images], new IndexerOptions { Rebuild = true }, null, cancel);
            Console.WriteLine($"4/4 indexed {summary.Embedded} images from {images}");
        }
        using var engine = SearchEngine.Open(indexPath, encoder);
        foreach (var query in queries)
        {
            Console.WriteLine($"    search \"{query}\":");
            foreach (var hit in engine.Search(new SearchQuery { Text = query }, 3))
                Console.WriteLine($"      {hit.Score:F3}  {Path.GetRelativePath(images, hit.Path)}  {hit.Caption?.Split('\n')[0]}");
        }
        Console.WriteLine();
        Console.WriteLine($"model folder: {model}");
        Console.WriteLine($"web app:      sharpclip serve --index {indexPath}");
        return 0;
    }
}
