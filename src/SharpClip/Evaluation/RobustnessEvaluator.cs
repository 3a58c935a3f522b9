using SharpClip.Data;
using SharpClip.ZeroShot;
using SharpClip.Pipelines;

namespace SharpClip.Evaluation;

/// <summary>One style's test set; <c>Role</c> is e.g. <see cref="RobustnessResult.TrainingRole"/>, "NearShift", "FarShift" for styles with a role, else null.</summary>
public sealed record StyleSet(string Style, string? Role, LabeledDataset Dataset);

/// <summary>One style's zero-shot result.</summary>
public sealed record StyleResult(string Style, string? Role, ZeroShotResult Result);

/// <summary>
/// The same classes evaluated on every style. <c>Reference</c> is the mean top-1 over the training styles (the
/// first style when none is marked), the baseline the shifted styles are compared with.
/// </summary>
public sealed record RobustnessResult(IReadOnlyList<string> ClassNames, IReadOnlyList<StyleResult> Styles, double Reference)
{
    /// <summary>
    /// "Wild" sets scored by the same model and prompts but with their own classes (e.g. OpenClipart's 22 folder
    /// classes beside the emoji groups): not part of <see cref="ShiftMean"/> or the per-class table, and read by
    /// balanced accuracy against their own chance level.
    /// </summary>
    public IReadOnlyList<StyleResult> Wild { get; init; } = [];

    /// <summary>The role of the styles a model was trained on: their mean is the reference the others are compared with.</summary>
    public const string TrainingRole = "Training";

    /// <summary>The comparison of zero-shot results already computed on the same classes; the reference is the training styles' mean top-1.</summary>
    public static RobustnessResult Of(IReadOnlyList<string> classNames, IReadOnlyList<StyleResult> styles)
    {
        if (styles.Count == 0) throw new ArgumentException("no styles to compare");
        var training = styles.Where(r => r.Role == TrainingRole).ToList();
        return new RobustnessResult(classNames, styles, (training.Count > 0 ? training : styles.Take(1)).Average(r => r.Result.Metrics.Top1));
    }

    /// <summary>Mean top-1 over the styles that are not training styles (NaN when there are none).</summary>
    public double ShiftMean => Styles.Where(s => s.Role != TrainingRole).Select(s => s.Result.Metrics.Top1).DefaultIfEmpty(double.NaN).Average();
}

/// <summary>
/// A distribution-shift study in the manner of the CLIP paper (its Figure 13 / Table of ImageNet shifts): one
/// zero-shot classifier, the same classes, accuracy on each style side by side, and the drop from the training
/// styles. Each style is scored with <see cref="ZeroShotEvaluator"/>, so features and the classifier are cached.
/// </summary>
public static class RobustnessEvaluator
{
    /// <summary>
    /// The styles under <paramref name="root"/>: its sub-folders, in ordinal order, each a class-per-folder tree or
    /// holding one path,label CSV. <paramref name="roleOf"/> gives a style's role by its folder name (null = none).
    /// </summary>
    public static IReadOnlyList<StyleSet> FromRoot(string root, Func<string, string?>? roleOf = null)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{root}: no such folder (expected a folder of style folders)");
        var styles = Directory.GetDirectories(root).Order(StringComparer.Ordinal).Select(dir =>
        {
            var style = Path.GetFileName(dir);
            var csvs = Directory.GetFiles(dir, "*.csv");
            var set = csvs.Length == 1 ? LabeledDatasets.FromCsv(csvs[0]) : LabeledDatasets.FromFolderTree(dir);
            return new StyleSet(style, roleOf?.Invoke(style), set);
        }).ToList();
        if (styles.Count == 0) throw new InvalidDataException($"{root}: no style sub-folders");
        return styles;
    }

    /// <summary>The role of sets evaluated with <see cref="EvaluateWild"/>.</summary>
    public const string WildRole = "Wild";

    /// <summary>
    /// A wild set from <paramref name="spec"/>: a class-per-folder tree or a path,label CSV (anything
    /// <see cref="LabeledDatasets.Open"/> reads as one labelled set). <paramref name="name"/> defaults to the folder or file name.
    /// </summary>
    public static StyleSet OpenWild(string spec, string? name = null)
    {
        var dataset = LabeledDatasets.Open(spec) switch
        {
            [var one] => one,
            var many => throw new ArgumentException($"{spec}: names {many.Count} tasks; a wild set must be one labelled set"),
        };
        return Wild(dataset, name ?? Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(spec)));
    }

    /// <summary><paramref name="dataset"/> as a wild set named <paramref name="name"/>.</summary>
    public static StyleSet Wild(LabeledDataset dataset, string name) => new(name, WildRole, dataset);

    /// <summary>
    /// Scores each wild set on its own classes with the same model, prompts and caches as the styles; the result goes
    /// into <see cref="RobustnessResult.Wild"/>.
    /// </summary>
    public static IReadOnlyList<StyleResult> EvaluateWild(ClipPipeline pipeline, IReadOnlyList<StyleSet> wild, PromptTemplates? templates = null,
        EvaluationOptions? options = null, Func<StyleSet, IProgress<int>?>? progress = null, CancellationToken cancellationToken = default) =>
        wild.Select(s => new StyleResult(s.Style, WildRole,
            ZeroShotEvaluator.Evaluate(pipeline, s.Dataset, templates, options, progress?.Invoke(s), cancellationToken))).ToList();

    /// <summary>
    /// Puts every style on the class list of the first (labels remapped by name). A style with a class the first one
    /// lacks is an error: the comparison is only meaningful over the same classes.
    /// </summary>
    public static (IReadOnlyList<string> Classes, IReadOnlyList<StyleSet> Styles) Align(IReadOnlyList<StyleSet> styles)
    {
        if (styles.Count == 0) throw new ArgumentException("no styles to compare");
        var classes = styles.SelectMany(s => s.Dataset.ClassNames).Distinct(StringComparer.Ordinal).ToList();
        var first = styles[0].Dataset.ClassNames.ToHashSet(StringComparer.Ordinal);
        var extra = classes.Where(c => !first.Contains(c)).ToList();
        if (extra.Count > 0)
            throw new InvalidDataException($"style '{styles.First(s => s.Dataset.ClassNames.Contains(extra[0])).Style}' has class '{extra[0]}' that style '{styles[0].Style}' lacks: robustness compares the same classes");
        classes = styles[0].Dataset.ClassNames.Order(StringComparer.Ordinal).ToList();
        return (classes, styles.Select(s => s with { Dataset = s.Dataset.OnClasses(classes, s.Style) }).ToList());
    }

    /// <summary>Scores every style with one classifier (built once, cached with <paramref name="options"/>).</summary>
    public static RobustnessResult Evaluate(ClipPipeline pipeline, IReadOnlyList<StyleSet> styles, PromptTemplates? templates = null,
        EvaluationOptions? options = null, Func<StyleSet, IProgress<int>?>? progress = null, CancellationToken cancellationToken = default)
    {
        var (classes, aligned) = Align(styles);
        return RobustnessResult.Of(classes, aligned.Select(s => new StyleResult(s.Style, s.Role,
            ZeroShotEvaluator.Evaluate(pipeline, s.Dataset, templates, options, progress?.Invoke(s), cancellationToken))).ToList());
    }
}
