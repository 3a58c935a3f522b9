using System.CommandLine;
using SharpClip.Data;
using SharpClip.Data.Synthetic;
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
        var steps = new Option<int>("--steps") { Description = "Training steps (batch 64).", DefaultValueFactory = _ => 400 };
        var seed = new Option<int>("--seed") { Description = "Seed for data, initialisation and order.", DefaultValueFactory = _ => 1 };
        var cmd = new Command("quickstart", "Train a small CLIP on built-in data, evaluate it zero-shot, and search images with it (offline, a few minutes).");
        cmd.Options.Add(output);
        cmd.Options.Add(steps);
        cmd.Options.Add(seed);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            string root = Path.GetFullPath(parse.GetValue(output)!);
            int n = parse.GetValue(steps);
            if (n < 1) throw new ArgumentException($"--steps {n}: must be at least 1");
            using var cancel = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };

            // 1. Train: a tiny ViT CLIP, 32×32 images, a BPE vocabulary learned from the captions.
            var synthetic = new SyntheticShapesOptions { ImageSize = 32, Supersampling = 2, Seed = parse.GetValue(seed) };
            var config = new TrainingConfig
            {
                Model = "tiny", ContextLength = 24, VocabSamples = 5000,
                DataOptions = new DataSourceOptions { Synthetic = synthetic },
                Data = "synthetic:shapes:train", EvalData = "synthetic:shapes:validation", EvalSamples = 1000,
                BatchSize = 64, Steps = n, WarmupSteps = Math.Min(50, n / 5), LearningRate = 1e-3,
                EvalEvery = 0, SaveEvery = 0, Seed = parse.GetValue(seed),
                Output = Path.Combine(root, "model"),
            };
            Console.WriteLine($"1/3 training a tiny CLIP on synthetic shapes: {n} steps of 64 pairs -> {config.Output}");
            TrainingResult result;
            using (var bar = new ConsoleProgress("steps", n))
                result = Trainer.Run(config, new SyncProgress<TrainingProgress>(p => { if (p.Kind == TrainingProgressKind.Step) bar.Report((int)p.Step); }), cancel.Token);
            Console.WriteLine($"    loss {result.Losses[0].Loss:F3} -> {result.Losses[^1].Loss:F3}");

            // 2. Evaluate: zero-shot per task (held-out colour×shape pairs were never seen together) and retrieval.
            var tasks = new SyntheticShapes(synthetic);
            Console.WriteLine("2/3 evaluation on the validation split (zero-shot accuracy vs chance; retrieval recall)");
            foreach (var (name, value) in result.LastEvaluation ?? new Dictionary<string, double>())
            {
                var task = tasks.ZeroShotTasks.FirstOrDefault(t => name.EndsWith("/" + t.Name, StringComparison.Ordinal));
                Console.WriteLine($"    {name,-38} {value,6:P1}" + (task is null ? "" : $"   (chance {task.Chance:P1})"));
            }

            // 3. Search: export held-out images to a folder, index them with the new model, query by text.
            var images = Path.Combine(root, "search-images");
            if (!Directory.Exists(images))
                SyntheticShapesExporter.Export(tasks.Split(SyntheticSplit.HeldOut), images, SyntheticExportFormat.Folder, cancellationToken: cancel.Token);
            var indexPath = Path.Combine(root, "images.db");
            using var encoder = ClipImageTextEncoder.Open(config.Output);
            using (var index = ImageIndex.Open(indexPath, create: true))
            {
                var summary = Indexer.Run(index, encoder, config.Output, [images], new IndexerOptions { Rebuild = true }, null, cancel.Token);
                Console.WriteLine($"3/3 indexed {summary.Embedded} images from {images}");
            }
            using var engine = SearchEngine.Open(indexPath, encoder);
            foreach (var query in new[] { "a red circle", "two blue squares", "a large green star" })
            {
                Console.WriteLine($"    search \"{query}\":");
                foreach (var hit in engine.Search(new SearchQuery { Text = query }, 3))
                    Console.WriteLine($"      {hit.Score:F3}  {Path.GetFileName(hit.Path)}  {hit.Caption?.Split('\n')[0]}");
            }
            Console.WriteLine();
            Console.WriteLine($"model folder: {config.Output} (try: sharpclip classify --model {config.Output} --labels \"circle,square,triangle\" --templates \"a {{}}\" {images})");
            Console.WriteLine($"web app:      sharpclip serve --index {indexPath}");
            return 0;
        }));
        return cmd;
    }
}
