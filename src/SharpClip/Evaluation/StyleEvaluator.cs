using System.Diagnostics;
using SharpClip.Data;
using SharpClip.Data.Builtin.Emoji;
using SharpClip.Pipelines;

namespace SharpClip.Evaluation;

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

    /// <summary>Zero-shot prompts; null = <see cref="RobustnessEvaluator.EmojiTemplates"/>.</summary>
    public PromptTemplates? Templates { get; init; }

    /// <summary>Folder for cached features and classifiers; null = no cache.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Styles to evaluate (null = every style the prepared folder has).</summary>
    public IReadOnlyList<string>? Styles { get; init; }

    /// <summary>
    /// Out-of-domain sets with their own classes (e.g. OpenClipart's 22 folder classes, <see cref="RobustnessEvaluator.OpenWild"/>),
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
public sealed record StyleScores(string Style, string? Role, ZeroShotResult Groups, ZeroShotResult Subgroups,
    ZeroShotResult ProbeTaskZeroShot, IReadOnlyList<FewShotPoint> FewShot, ProbeResult? Probe, RetrievalResult Retrieval);

/// <summary>The whole table; <paramref name="Seconds"/> is the wall time of the evaluation.</summary>
public sealed record StyleEvaluationResult(string Dataset, IReadOnlyList<StyleScores> Styles, StyleEvaluationOptions Options, double Seconds)
{
    /// <summary>Zero-shot results on <see cref="StyleEvaluationOptions.Wild"/>.</summary>
    public IReadOnlyList<StyleResult> Wild { get; init; } = [];
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
        RequirePrepared(emojiRoot);
        var watch = Stopwatch.StartNew();
        var templates = options.Templates ?? RobustnessEvaluator.EmojiTemplates;
        var evalOptions = new EvaluationOptions { CacheDirectory = options.CacheDirectory };

        var (_, groups) = RobustnessEvaluator.Align(Pick(RobustnessEvaluator.FromRoot(emojiRoot, "groups", "test"), options.Styles));
        var (_, subgroups) = RobustnessEvaluator.Align(Pick(RobustnessEvaluator.FromRoot(emojiRoot, "subgroups", "test"), options.Styles));
        var rows = new List<StyleScores>();
        for (int i = 0; i < groups.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string style = groups[i].Style;
            progress?.Report($"{style}: zero-shot");
            var zsGroups = ZeroShotEvaluator.Evaluate(pipeline, groups[i].Dataset, templates, evalOptions, null, cancellationToken);
            var zsSub = ZeroShotEvaluator.Evaluate(pipeline, subgroups.Single(s => s.Style == style).Dataset, templates, evalOptions, null, cancellationToken);

            // The probes: the style's own training identities (never the test ones), classes aligned with the test set.
            var test = Csv(emojiRoot, style, options.ProbeTask, "test");
            var train = Csv(emojiRoot, style, options.ProbeTask, "train");
            var val = Csv(emojiRoot, style, options.ProbeTask, "val");
            var classes = test.ClassNames.Union(train.ClassNames).Union(val.ClassNames).Order(StringComparer.Ordinal).ToList();
            (test, train, val) = (OnClasses(test, classes), OnClasses(train, classes), OnClasses(val, classes));
            var zsTask = options.ProbeTask == "groups" ? zsGroups
                : options.ProbeTask == "subgroups" ? zsSub
                : ZeroShotEvaluator.Evaluate(pipeline, test, templates, evalOptions, null, cancellationToken);
            progress?.Report($"{style}: features for the probes");
            var fTest = LabeledFeatures.From(ImageFeatures.ExtractCached(pipeline, test, options.CacheDirectory, null, cancellationToken), test);
            var fTrain = LabeledFeatures.From(ImageFeatures.ExtractCached(pipeline, train, options.CacheDirectory, null, cancellationToken), train);
            progress?.Report($"{style}: few-shot probes");
            var fewShot = options.Shots.Count == 0 ? [] : LinearProbe.FewShot(fTrain, fTest, classes.Count, options.Shots, options.Seeds, null, cancellationToken);
            ProbeResult? probe = null;
            if (options.FullProbe)
            {
                progress?.Report($"{style}: linear probe");
                var fVal = LabeledFeatures.From(ImageFeatures.ExtractCached(pipeline, val, options.CacheDirectory, null, cancellationToken), val);
                probe = LinearProbe.Run(fTrain, fVal, fTest, classes.Count, 0, cancellationToken);
            }
            progress?.Report($"{style}: retrieval");
            var retrieval = RetrievalEvaluator.Evaluate(pipeline, ImageTextSources.Open(EmojiDataset.TestJsonl(emojiRoot, style)), null, null, cancellationToken);
            rows.Add(new StyleScores(style, groups[i].Role, zsGroups, zsSub, zsTask, fewShot, probe, retrieval));
        }
        progress?.Report("out-of-domain sets");
        var wild = RobustnessEvaluator.EvaluateWild(pipeline, options.Wild, templates, evalOptions, null, cancellationToken);
        return new StyleEvaluationResult(emojiRoot, rows, options, watch.Elapsed.TotalSeconds) { Wild = wild };
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

    static LabeledDataset Csv(string root, string style, string task, string split)
    {
        var path = EmojiDataset.ZeroShotCsv(root, style, task, split);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: missing (task '{task}', split '{split}'); run `sharpclip datasets prepare emoji` again?", path);
        return LabeledDatasets.FromCsv(path);
    }

    /// <summary>The same images with labels re-indexed into <paramref name="classes"/> (a superset of the dataset's).</summary>
    static LabeledDataset OnClasses(LabeledDataset set, IReadOnlyList<string> classes)
    {
        var index = classes.Select((c, i) => (c, i)).ToDictionary(t => t.c, t => t.i, StringComparer.Ordinal);
        return new LabeledDataset(set.Name, classes, set.Items.Select(it => it with { Label = index[set.ClassNames[it.Label]] }).ToList());
    }
}
