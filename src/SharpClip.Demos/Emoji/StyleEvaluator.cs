using System.Diagnostics;
using SharpClip.Data;
using SharpClip.Evaluation;
using SharpClip.Pipelines;
using SharpClip.ZeroShot;

namespace SharpClip.Demos.Emoji;

/// <summary>What a per-style evaluation runs besides zero-shot.</summary>
public sealed record StyleEvaluationOptions
{
    /// <summary>Images per class in the few-shot probes (the paper's Figure 6 uses 1…16).</summary>
    public IReadOnlyList<int> Shots { get; init; } = [1, 2, 4, 8, 16];

    /// <summary>Random draws per shot count; the table shows their mean.</summary>
    public int Seeds { get; init; } = 5;

    /// <summary>The emoji task the probes learn: "groups" (8 classes) or "subgroups".</summary>
    public string ProbeTask { get; init; } = "groups";

    /// <summary>Also fit the full linear probe (every training image of the style, C swept on its validation split).</summary>
    public bool FullProbe { get; init; } = true;

    /// <summary>Zero-shot prompts; null = <see cref="EmojiStyleSets.Templates"/>.</summary>
    public PromptTemplates? Templates { get; init; }

    /// <summary>Folder for cached features and classifiers; null = no cache.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Styles to evaluate (null = every style the prepared folder has).</summary>
    public IReadOnlyList<string>? Styles { get; init; }

    /// <summary>
    /// Out-of-domain sets with their own classes (e.g. OpenClipart's 22 folder classes, <see cref="EmojiStyleSets.OpenWild"/>),
    /// scored zero-shot with the same prompts; reported by balanced accuracy (mean per-class recall).
    /// </summary>
    public IReadOnlyList<StyleSet> Wild { get; init; } = [];
}

/// <summary>One style's row of the table.</summary>
/// <param name="Style">Style name (google, apple, openmoji, ...).</param>
/// <param name="Role">Training, NearShift or FarShift.</param>
/// <param name="Groups">Zero-shot on the 8 Unicode groups (test identities).</param>
/// <param name="Subgroups">Zero-shot on the subgroups with enough members.</param>
/// <param name="ProbeTaskZeroShot">Zero-shot on the probes' task: the line the few-shot curve is compared with.</param>
/// <param name="FewShot">k-shot linear probes on <see cref="StyleEvaluationOptions.ProbeTask"/>, trained on the style's own training identities.</param>
/// <param name="Probe">The full linear probe (null when not asked for).</param>
/// <param name="Retrieval">"an emoji of {name}" against the style's test images, both directions.</param>
/// <param name="ProbeImagesSkipped">Training and validation images of the probes that could not be read.</param>
/// <param name="Failures">Why images of this style could not be read, each naming its file (distinct messages).</param>
public sealed record StyleScores(string Style, string? Role, ZeroShotResult Groups, ZeroShotResult Subgroups,
    ZeroShotResult ProbeTaskZeroShot, IReadOnlyList<FewShotPoint> FewShot, ProbeResult? Probe, RetrievalResult Retrieval,
    int ProbeImagesSkipped, IReadOnlyList<string> Failures)
{
    /// <summary>Image reads that failed anywhere in this row, left out of its numbers (an image used twice counts twice).</summary>
    public int Skipped => Groups.Skipped + Subgroups.Skipped + Retrieval.Skipped + ProbeImagesSkipped;
}

/// <summary>The whole table; <paramref name="Seconds"/> is the wall time of the evaluation.</summary>
public sealed record StyleEvaluationResult(string Dataset, IReadOnlyList<StyleScores> Styles, StyleEvaluationOptions Options, double Seconds)
{
    /// <summary>Zero-shot results on <see cref="StyleEvaluationOptions.Wild"/>.</summary>
    public IReadOnlyList<StyleResult> Wild { get; init; } = [];

    /// <summary>The zero-shot group results as a robustness study (per style, drop from the training styles, wild sets).</summary>
    public RobustnessResult GroupsRobustness() =>
        RobustnessResult.Of(Styles[0].Groups.Metrics.PerClass.Select(c => c.Name).ToList(),
            Styles.Select(s => new StyleResult(s.Style, s.Role, s.Groups)).ToList()) with { Wild = Wild };
}

/// <summary>
/// The CLIP paper's evaluations side by side for every style of the prepared emoji data (<c>sharpclip datasets
/// prepare emoji</c>): zero-shot classification (groups and subgroups), k-shot and full linear probes on frozen
/// features, and text↔image retrieval recall. One row per style shows how each ability survives the shift from the
/// training styles (Google, Twitter) to near (Apple, Facebook) and far (OpenMoji, Fluent) styles — the table a
/// newcomer reproduces for a model trained here. Features and classifiers are cached, so a second run is fast.
/// </summary>
public static class StyleEvaluator
{
    public static StyleEvaluationResult Run(ClipPipeline pipeline, string emojiRoot, StyleEvaluationOptions? options = null,
        IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new StyleEvaluationOptions();
        if (options.Shots.Count == 0 && !options.FullProbe) throw new ArgumentException("no probes asked for: give shots or the full probe");
        if (options.Shots.Any(k => k < 1)) throw new ArgumentException($"shots: {string.Join(",", options.Shots)} — each must be at least 1");
        if (options.Seeds < 1) throw new ArgumentException($"seeds: {options.Seeds} — must be at least 1");
        if (options.ProbeTask is not ("groups" or "subgroups")) throw new ArgumentException($"probe task '{options.ProbeTask}': expected groups or subgroups");
        RequirePrepared(emojiRoot);
        var watch = Stopwatch.StartNew();
        var templates = options.Templates ?? EmojiStyleSets.Templates;
        string? cache = options.CacheDirectory;

        // One classifier per task for every style; each style's test images are embedded once per task and shared by
        // its zero-shot score and its probes.
        using var groups = new TaskSets(pipeline, emojiRoot, "groups", options.Styles, templates, cache, cancellationToken);
        using var subgroups = new TaskSets(pipeline, emojiRoot, "subgroups", options.Styles, templates, cache, cancellationToken);
        var rows = new List<StyleScores>();
        foreach (var set in groups.Styles)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string style = set.Style;
            progress?.Report($"{style}: zero-shot");
            var (zsGroups, groupFeatures) = groups.Score(set, cancellationToken);
            var subSet = subgroups.Styles.Single(s => s.Style == style);
            var (zsSub, subFeatures) = subgroups.Score(subSet, cancellationToken);

            // The probes learn from the style's own training identities (never the test ones), on one class list.
            var (zsTask, testSet, testFeatures) = options.ProbeTask == "groups" ? (zsGroups, set.Dataset, groupFeatures) : (zsSub, subSet.Dataset, subFeatures);
            var train = EmojiStyleSets.OpenTask(emojiRoot, style, options.ProbeTask, "train");
            var val = EmojiStyleSets.OpenTask(emojiRoot, style, options.ProbeTask, "val");
            var classes = testSet.ClassNames.Union(train.ClassNames).Union(val.ClassNames).Order(StringComparer.Ordinal).ToList();
            var fTest = LabeledFeatures.From(testFeatures, testSet.OnClasses(classes));
            progress?.Report($"{style}: features for the probes");
            var failures = new SortedSet<string>(zsGroups.Failures.Concat(zsSub.Failures), StringComparer.Ordinal); // + probes', retrieval's below
            int probeSkipped = 0;
            var fTrain = Features(pipeline, train.OnClasses(classes), cache, failures, ref probeSkipped, cancellationToken);
            progress?.Report($"{style}: few-shot probes");
            var fewShot = options.Shots.Count == 0 ? [] : LinearProbe.FewShot(fTrain, fTest, classes.Count, options.Shots, options.Seeds, null, cancellationToken);
            ProbeResult? probe = null;
            if (options.FullProbe)
            {
                progress?.Report($"{style}: linear probe");
                probe = LinearProbe.Run(fTrain, Features(pipeline, val.OnClasses(classes), cache, failures, ref probeSkipped, cancellationToken), fTest, classes.Count, 0,
                    progress is null ? null : new Relay<string>(m => progress.Report($"{style}: linear probe: {m}")), cancellationToken);
            }
            progress?.Report($"{style}: retrieval");
            var retrieval = RetrievalEvaluator.Evaluate(pipeline, ImageTextSources.Open(EmojiDataset.TestJsonl(emojiRoot, style)), null, null, cancellationToken);
            failures.UnionWith(retrieval.Failures);
            rows.Add(new StyleScores(style, set.Role, zsGroups, zsSub, zsTask, fewShot, probe, retrieval, probeSkipped, [.. failures]));
        }
        progress?.Report("out-of-domain sets");
        var wild = RobustnessEvaluator.EvaluateWild(pipeline, options.Wild, templates, new EvaluationOptions { CacheDirectory = cache }, null, cancellationToken);
        return new StyleEvaluationResult(emojiRoot, rows, options, watch.Elapsed.TotalSeconds) { Wild = wild };
    }

    static LabeledFeatures Features(ClipPipeline pipeline, LabeledDataset set, string? cache, ISet<string> failures, ref int skipped,
        CancellationToken cancellationToken)
    {
        var features = ImageFeatures.ExtractCached(pipeline, set, cache, null, cancellationToken);
        skipped += features.Failed;
        failures.UnionWith(features.Errors.Values);
        return LabeledFeatures.From(features, set);
    }

    /// <summary>One emoji task's test sets of every style on one class list, and its zero-shot classifier.</summary>
    sealed class TaskSets : IDisposable
    {
        readonly ClipPipeline pipeline;
        readonly string? cache;
        readonly ZeroShotClassifier classifier;
        readonly double promptsPerClass;

        public TaskSets(ClipPipeline pipeline, string root, string task, IReadOnlyList<string>? names, PromptTemplates templates, string? cache,
            CancellationToken cancellationToken)
        {
            this.pipeline = pipeline;
            this.cache = cache;
            Styles = RobustnessEvaluator.Align(Pick(EmojiStyleSets.FromRoot(root, task, "test"), names)).Styles;
            var prompts = ZeroShotEvaluator.PromptsFor(Styles[0].Dataset, templates);
            promptsPerClass = prompts.PromptsPerClass;
            classifier = pipeline.BuildClassifier(prompts, cache, cancellationToken: cancellationToken);
        }

        public IReadOnlyList<StyleSet> Styles { get; }

        public (ZeroShotResult Result, FeatureMatrix Features) Score(StyleSet set, CancellationToken cancellationToken)
        {
            var features = ImageFeatures.ExtractCached(pipeline, set.Dataset, cache, null, cancellationToken);
            return (ZeroShotEvaluator.Score(set.Dataset, classifier, features, promptsPerClass), features);
        }

        public void Dispose() => classifier.Dispose();
    }

    /// <summary>Fails early, naming the folder, when <paramref name="emojiRoot"/> is not a prepared emoji folder.</summary>
    public static void RequirePrepared(string emojiRoot)
    {
        if (!Directory.Exists(Path.Combine(emojiRoot, "zeroshot")))
            throw new DirectoryNotFoundException($"{emojiRoot}: not a prepared emoji folder (no zeroshot/); run `sharpclip datasets prepare emoji`");
    }

    static IReadOnlyList<StyleSet> Pick(IReadOnlyList<StyleSet> all, IReadOnlyList<string>? names)
    {
        if (names is null) return all;
        var unknown = names.FirstOrDefault(n => all.All(s => s.Style != n));
        if (unknown is not null) throw new ArgumentException($"style '{unknown}': not prepared; known: {string.Join(", ", all.Select(s => s.Style))}");
        return names.Select(n => all.First(s => s.Style == n)).ToList();
    }
}
