using SharpClip.Data;
using SharpClip.Evaluation;

namespace SharpClip.Demos.Synthetic;

/// <summary>
/// The <c>synthetic:</c> spec scheme: <c>synthetic:shapes[:train|validation|heldout]</c> as training or validation
/// pairs (<see cref="ImageTextSources"/>), and <c>synthetic:shapes[:split][#task]</c> as labelled test sets
/// (<see cref="LabeledDatasets"/>). The set's settings travel as the scheme settings named <see cref="Scheme"/>
/// (a training config's <c>"data_options": { "synthetic": { ... } }</c>).
/// </summary>
public static class SyntheticShapesSpec
{
    /// <summary>The spec prefix and the key of the set's settings in <see cref="DataSourceOptions"/>.</summary>
    public const string Scheme = "synthetic";

    /// <summary>Data options that carry <paramref name="settings"/> for the synthetic set.</summary>
    public static DataSourceOptions Options(SyntheticShapesOptions settings) => new DataSourceOptions().WithSettings(Scheme, settings);

    /// <summary>The synthetic set's settings in <paramref name="options"/>, or null for the defaults.</summary>
    public static SyntheticShapesOptions? SettingsIn(DataSourceOptions? options) => options?.SettingsFor<SyntheticShapesOptions>(Scheme);

    /// <summary>Opens <c>synthetic:shapes[:train|validation|heldout]</c> (train when no split is given).</summary>
    public static SyntheticShapesSplit Open(string spec, DataSourceOptions? options)
    {
        var parts = spec.Split(':');
        if (parts.Length is < 2 or > 3 || !parts[1].Equals("shapes", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"unknown synthetic dataset '{spec}' (expected synthetic:shapes[:train|validation|heldout])");
        var split = parts.Length == 2 ? SyntheticSplit.Train : parts[2].ToLowerInvariant() switch
        {
            "train" => SyntheticSplit.Train,
            "validation" or "val" => SyntheticSplit.Validation,
            "heldout" or "held-out" or "test" => SyntheticSplit.HeldOut,
            _ => throw new ArgumentException($"unknown synthetic split '{parts[2]}' in '{spec}' (train, validation or heldout)"),
        };
        return new SyntheticShapes(SettingsIn(options)).Split(split);
    }

    /// <summary>
    /// <c>synthetic:shapes[:train|validation|heldout][#task]</c> as classification sets: every zero-shot task of the set,
    /// or the one after '#' (e.g. <c>synthetic:shapes:heldout#colour</c>); the split defaults to heldout.
    /// </summary>
    public static IReadOnlyList<LabeledDataset> OpenLabeled(string spec, DataSourceOptions? options)
    {
        var (setSpec, task) = spec.IndexOf('#') is var hash and >= 0 ? (spec[..hash], spec[(hash + 1)..]) : (spec, null);
        if (setSpec.Count(c => c == ':') == 1) setSpec += ":heldout";
        var split = Open(setSpec, options);
        var tasks = split.Dataset.ZeroShotTasks.Where(t => task is null || string.Equals(t.Name, task, StringComparison.OrdinalIgnoreCase)).ToList();
        if (tasks.Count == 0)
            throw new ArgumentException($"{spec}: no task '{task}' (tasks: {string.Join(", ", split.Dataset.ZeroShotTasks.Select(t => t.Name))})");
        int size = split.Dataset.Options.ImageSize, ss = split.Dataset.Options.Supersampling;
        var scenes = Enumerable.Range(0, split.Count).Select(split.Scene).ToArray();
        var result = new List<LabeledDataset>();
        foreach (var t in tasks)
        {
            var items = new List<LabeledImage>();
            for (int i = 0; i < scenes.Length; i++)
            {
                int label = t.Label(scenes[i]);
                if (label < 0) continue; // the scene belongs to none of the task's classes
                var scene = scenes[i];
                var key = split.KeyOf(i);
                items.Add(new LabeledImage(key, new RawRgbImage(size, size, () => ShapeRasterizer.Render(scene, size, ss), $"synthetic:{key}"), label));
            }
            if (items.Count == 0) continue;
            result.Add(new LabeledDataset($"{setSpec}#{t.Name}", t.ClassNames, items, t.Prompts));
        }
        return result;
    }
}
