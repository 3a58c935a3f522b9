using System.Globalization;
using SharpClip.Data;
using SharpClip.Demos.Emoji;
using SharpClip.Demos.OpenClipart;
using SharpClip.Demos.Synthetic;
using SharpClip.Evaluation;
using SharpClip.Pipelines;
using SharpClip.Search;
using SharpClip.Training;

namespace SharpClip.Demos;

/// <summary>
/// The whole of CLIP in a few minutes on a laptop CPU, offline — the recipe behind <c>sharpclip quickstart</c>:
/// prepare the data (emoji from pinned npm packages, else the built-in synthetic shapes), train a small CLIP, evaluate
/// it (synthetic: zero-shot accuracy including colour×shape pairs it never saw, and retrieval recall; emoji: the
/// per-style table on held-out identities), then index a folder of images with the new model and search it by text.
/// Every stage is a library call; the model folder it leaves behind works with every other verb. Run again, it reuses
/// what is done: a finished training run is kept (and said so), an unfinished one resumed; <see cref="QuickstartOptions.Fresh"/>
/// trains anew, and a run made with other settings is never silently continued.
/// </summary>
public static class Quickstart
{
    /// <summary>Runs the recipe; narration and progress go to <paramref name="progress"/>, the search stage's results come back.</summary>
    /// <exception cref="ArgumentOutOfRangeException">fewer than 1 step asked for.</exception>
    /// <exception cref="InvalidOperationException">and the other errors of <see cref="EmojiDataset.Prepare"/>: emoji asked for explicitly and not available.</exception>
    public static QuickstartSummary Run(QuickstartOptions options, IProgress<QuickstartEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        if (options.Steps is < 1) throw new ArgumentOutOfRangeException(nameof(options), $"steps {options.Steps}: must be at least 1");
        var run = new Narration(Path.GetFullPath(options.Root), options.Seed, options.Fresh, progress, cancellationToken);
        if (options.Data != QuickstartData.Synthetic && PrepareEmoji(run, options.Data) is { } emoji)
            return RunEmoji(run, emoji.Root, emoji.Wild, options.Steps ?? 1000);
        return RunSynthetic(run, options.Steps ?? 400);
    }

    /// <summary>What every stage needs: the output folder, the seed, where to report, and the token that stops it.</summary>
    sealed record Narration(string Root, int Seed, bool Fresh, IProgress<QuickstartEvent>? Progress, CancellationToken Cancel)
    {
        public void Note(string line) => Progress?.Report(new QuickstartNote(line));

        public IProgress<T> Preparing<T>(Func<T, (string Stage, int Done, int Total)> stage) =>
            new Relay<T>(p => { var (s, done, total) = stage(p); Progress?.Report(new QuickstartPreparing(s, done, total)); });
    }

    /// <summary>The emoji data and, as an out-of-domain test, the OpenClipart drawings; null when auto falls back.</summary>
    static (string Root, IReadOnlyList<StyleSet> Wild)? PrepareEmoji(Narration run, QuickstartData data)
    {
        run.Note($"1/4 preparing the emoji data (pinned npm packages, cached in {EmojiDataset.DefaultDirectory})");
        EmojiPrepareResult prepared;
        try
        {
            prepared = EmojiDataset.Prepare(null, run.Preparing<EmojiPrepareProgress>(p => (p.Stage, p.Done, p.Total)), run.Cancel);
        }
        catch (Exception e) when (data == QuickstartData.Auto && e is InvalidOperationException or NotSupportedException or IOException or InvalidDataException)
        {
            run.Note($"    the emoji data is not available ({e.Message})");
            run.Note("    falling back to the built-in synthetic shapes (no network needed)");
            return null;
        }
        IReadOnlyList<StyleSet> wild = [];
        try
        {
            run.Note("    and the OpenClipart drawings (Debian's openclipart-svg) as an out-of-domain test");
            var clipart = OpenClipartDataset.Prepare(null, run.Preparing<OpenClipartProgress>(p => (p.Stage, p.Done, p.Total)), run.Cancel);
            wild = [EmojiStyleSets.OpenWild(clipart.Directory, "openclipart")];
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or IOException or InvalidDataException)
        {
            run.Note($"    OpenClipart skipped ({e.Message})");
        }
        return (prepared.Directory, wild);
    }

    /// <summary>Emoji: train on the Google/Twitter training identities, then the per-style table and a search demo.</summary>
    static QuickstartSummary RunEmoji(Narration run, string emojiRoot, IReadOnlyList<StyleSet> wild, int steps)
    {
        var config = TrainingRecipes.Emoji(Path.Combine(run.Root, "model"), steps, run.Seed);
        run.Note($"2/4 training a tiny CLIP on the emoji training styles (google, twitter): {steps} steps of {config.BatchSize} pairs -> {config.Output}");
        var result = Train(run, config);
        if (result.LastEvaluation is { } last)
            run.Note("    validation retrieval: " + string.Join("  ", last.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key.Replace("retrieval/", "")} {kv.Value:P1}"))));

        run.Note("3/4 evaluation on held-out emoji identities, every style (zero-shot, few-shot probes, retrieval)");
        var reportDir = Path.Combine(run.Root, "report");
        using (var pipeline = ClipPipeline.Load(config.Output))
        {
            // 1/4/16-shot probes over 3 seeds; the finer curve and the full linear probe are left to `eval styles`.
            var options = new StyleEvaluationOptions { Shots = [1, 4, 16], Seeds = 3, FullProbe = false, Wild = wild, CacheDirectory = Path.Combine(reportDir, "cache") };
            var table = StyleEvaluator.Run(pipeline, emojiRoot, options, new Relay<string>(m => run.Progress?.Report(new QuickstartEvaluating(m))), run.Cancel);
            StyleEvaluationReport.Write(reportDir, config.Output, table,
                $"sharpclip eval styles --model {config.Output} --data-root {emojiRoot} --shots 1,4,16 --seeds 3 --no-linear-probe -o {reportDir}");
            run.Progress?.Report(new QuickstartStyleTable(table));
        }
        run.Note($"    reports: {Path.Combine(reportDir, "styles.md")} (all evaluations per style), {Path.Combine(reportDir, "robustness.md")} (zero-shot drop under shift)");

        // 4. Search: the held-out images of a training style and a far-shift style, indexed with the new model.
        var images = Path.Combine(run.Root, "search-images");
        foreach (var style in new[] { "google", "openmoji" })
        {
            var dir = Path.Combine(images, style);
            Directory.CreateDirectory(dir);
            foreach (var sample in ImageTextSources.Open(EmojiDataset.TestJsonl(emojiRoot, style)).ReadAll(null, run.Cancel))
                if (sample.Image is ImageFile file && !File.Exists(Path.Combine(dir, Path.GetFileName(file.Path))))
                {
                    File.Copy(file.Path, Path.Combine(dir, Path.GetFileName(file.Path)));
                    File.WriteAllText(Path.ChangeExtension(Path.Combine(dir, Path.GetFileName(file.Path)), ".txt"), sample.Captions[0]);
                }
        }
        return Search(run, result, config.Output, images, ["a red heart", "a blue heart", "a monkey face", "a Christmas tree"]);
    }

    /// <summary>Synthetic shapes: offline, ~1 minute; zero-shot per task including colour×shape pairs never seen in training.</summary>
    static QuickstartSummary RunSynthetic(Narration run, int steps)
    {
        var synthetic = new SyntheticShapesOptions { ImageSize = 32, Supersampling = 2, Seed = run.Seed };
        var config = new TrainingConfig
        {
            Model = "tiny", ContextLength = 24, VocabSamples = 5000,
            DataOptions = SyntheticShapesSpec.Options(synthetic),
            Data = "synthetic:shapes:train", EvalData = "synthetic:shapes:validation", EvalSamples = 1000,
            BatchSize = 64, Steps = steps, WarmupSteps = Math.Min(50, steps / 5), LearningRate = 1e-3,
            EvalEvery = 0, SaveEvery = 0, Seed = run.Seed,
            Output = Path.Combine(run.Root, "model"),
        };
        run.Note($"2/4 training a tiny CLIP on synthetic shapes: {steps} steps of 64 pairs -> {config.Output}");
        var result = Train(run, config);

        var tasks = new SyntheticShapes(synthetic);
        run.Note("3/4 evaluation on the validation split (zero-shot accuracy vs chance; retrieval recall)");
        foreach (var (name, value) in result.LastEvaluation ?? new Dictionary<string, double>())
        {
            var task = tasks.ZeroShotTasks.FirstOrDefault(t => name.EndsWith("/" + t.Name, StringComparison.Ordinal));
            run.Note($"    {name,-38} {value,6:P1}" + (task is null ? "" : $"   (chance {task.Chance:P1})"));
        }

        var images = Path.Combine(run.Root, "search-images");
        if (!Directory.Exists(images))
            SyntheticShapesExporter.Export(tasks.Split(SyntheticSplit.HeldOut), images, SyntheticExportFormat.Folder, cancellationToken: run.Cancel);
        return Search(run, result, config.Output, images, ["a red circle", "two blue squares", "a large green star"]);
    }

    static TrainingResult Train(Narration run, TrainingConfig config)
    {
        long total = config.Steps!.Value;
        config = ReuseOrStart(run, config);
        var result = Trainer.Run(config, new Relay<TrainingEvent>(e => run.Progress?.Report(new QuickstartTraining(e, total))), run.Cancel, TrainingEvaluator.Create);
        // The whole run's first and last loss, also when it was trained (or begun) by an earlier quickstart.
        var losses = MetricsLog.Read(Path.Combine(config.Output, MetricsLog.FileName)).Where(r => r.ContainsKey("loss")).Select(r => (double)r["loss"]!).ToList();
        if (losses.Count > 0) run.Note(string.Create(CultureInfo.InvariantCulture, $"    loss {losses[0]:F3} -> {losses[^1]:F3}"));
        return result;
    }

    /// <summary>
    /// A second quickstart in the same folder: a finished run with the same settings is reused (it is only evaluated
    /// again), an unfinished one resumed; with <see cref="QuickstartOptions.Fresh"/> the earlier run is deleted first.
    /// A run with other settings (steps, seed, data) is refused rather than continued with a mixed recipe.
    /// </summary>
    static TrainingConfig ReuseOrStart(Narration run, TrainingConfig config)
    {
        if (ExistingRun.Find(config.Output) is not { } existing) return config;
        if (run.Fresh)
        {
            Directory.Delete(config.Output, recursive: true);
            run.Note($"    --fresh: deleted the earlier run in {config.Output}; training a new one");
            return config;
        }
        var changed = existing.Differences(config);
        if (changed.Count > 0)
            throw new InvalidOperationException($"{config.Output} holds a quickstart run with other settings ({string.Join(", ", changed)}): " +
                "add --fresh to replace it, or choose another output folder with -o");
        run.Note(existing.IsFinished(config.Steps!.Value)
            ? $"    reusing the finished run in {config.Output} ({existing.Step} steps; --fresh trains a new one)"
            : $"    resuming the unfinished run in {config.Output} at step {existing.Step} of {config.Steps} (--fresh starts over)");
        return config with { Resume = true };
    }

    /// <summary>Indexes <paramref name="images"/> with the new model and runs a few text queries.</summary>
    static QuickstartSummary Search(Narration run, TrainingResult training, string model, string images, IReadOnlyList<string> queries)
    {
        var indexPath = Path.Combine(run.Root, "images.db");
        using var encoder = ClipImageTextEncoder.Open(model);
        int indexed;
        using (var index = ImageIndex.Open(indexPath, create: true))
            indexed = Indexer.Run(index, encoder, model, [images], new IndexerOptions { Rebuild = true }, null, run.Cancel).Embedded;
        using var engine = SearchEngine.Open(indexPath, encoder);
        var searches = queries.Select(q => (q, engine.Search(new SearchQuery { Text = q }, 3))).ToList();
        return new QuickstartSummary(training, model, indexPath, images, indexed, searches);
    }
}
