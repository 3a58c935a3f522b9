using SharpClip.Data;
using SharpClip.Demos.OpenClipart;
using SharpClip.Evaluation;
using SharpClip.ZeroShot;

namespace SharpClip.Demos.Emoji;

/// <summary>
/// The emoji data as a robustness study (<see cref="RobustnessEvaluator"/>): one style set per emoji style of a
/// prepared folder, with the styles' roles (training, near and far shift), the prompts emoji classes are named with,
/// and a prepared OpenClipart folder as a wild set.
/// </summary>
public static class EmojiStyleSets
{
    /// <summary>Prompts for emoji classes: the class name, "an emoji of {}", "{} emoji" (averaged).</summary>
    public static PromptTemplates Templates { get; } = new(["{}", "an emoji of {}", "{} emoji"]);

    /// <summary>Whether <paramref name="root"/> is a prepared emoji folder (it has <c>zeroshot/</c>).</summary>
    public static bool IsPrepared(string root) => Directory.Exists(Path.Combine(root, "zeroshot"));

    /// <summary>
    /// The styles under <paramref name="root"/>: a prepared emoji folder (<c>zeroshot/&lt;style&gt;/&lt;task&gt;-&lt;split&gt;.csv</c>,
    /// styles in the emoji order), or a folder whose sub-folders are styles, each a class-per-folder tree or holding
    /// one path,label CSV (<see cref="RobustnessEvaluator.FromRoot"/>). Styles named like emoji styles get their roles.
    /// </summary>
    public static IReadOnlyList<StyleSet> FromRoot(string root, string task = "groups", string split = "test")
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{root}: no such folder (expected a prepared emoji dataset or a folder of style folders)");
        if (!IsPrepared(root)) return RobustnessEvaluator.FromRoot(root, RoleOf);
        var known = EmojiStyle.All.Select(s => s.Name).ToList();
        return Directory.GetDirectories(Path.Combine(root, "zeroshot")).Select(Path.GetFileName).OfType<string>()
            .OrderBy(s => known.IndexOf(s) is var i and >= 0 ? i : int.MaxValue).ThenBy(s => s, StringComparer.Ordinal)
            .Select(style => new StyleSet(style, RoleOf(style), OpenTask(root, style, task, split))).ToList();
    }

    /// <summary>One style's class list for an emoji task and split (<c>zeroshot/STYLE/TASK-SPLIT.csv</c>), or an error naming the file.</summary>
    public static LabeledDataset OpenTask(string root, string style, string task, string split)
    {
        var csv = EmojiDataset.ZeroShotCsv(root, style, task, split);
        if (!File.Exists(csv)) throw new FileNotFoundException($"{csv}: missing (task '{task}', split '{split}'; run `sharpclip datasets prepare emoji` again?)", csv);
        return LabeledDatasets.FromCsv(csv);
    }

    /// <summary>The role of an emoji style by name ("Training", "NearShift", "FarShift"), or null for other names.</summary>
    public static string? RoleOf(string style) => EmojiStyle.All.FirstOrDefault(s => s.Name == style)?.Role.ToString();

    /// <summary>
    /// A wild set from <paramref name="spec"/>: a prepared OpenClipart folder (its <c>openclipart.csv</c>), else what
    /// <see cref="RobustnessEvaluator.OpenWild"/> opens. <paramref name="name"/> defaults to "openclipart" for a
    /// prepared folder, else the folder or file name.
    /// </summary>
    public static StyleSet OpenWild(string spec, string? name = null) =>
        Directory.Exists(spec) && OpenClipartDataset.IsPrepared(spec)
            ? RobustnessEvaluator.Wild(LabeledDatasets.FromCsv(OpenClipartDataset.CsvPath(spec)), name ?? "openclipart")
            : RobustnessEvaluator.OpenWild(spec, name);

    /// <summary>The prepared OpenClipart set in its default folder, if any (<c>sharpclip datasets prepare openclipart</c>).</summary>
    public static IReadOnlyList<StyleSet> DefaultWild() =>
        OpenClipartDataset.IsPrepared(OpenClipartDataset.DefaultDirectory) ? [EmojiStyleSets.OpenWild(OpenClipartDataset.DefaultDirectory, "openclipart")] : [];
}
