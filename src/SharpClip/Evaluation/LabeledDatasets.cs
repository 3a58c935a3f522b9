using System.Text;
using SharpClip.Data;
using SharpClip.Data.Sources;
using SharpClip.Data.Synthetic;
using SharpClip.Vision;

namespace SharpClip.Evaluation;

/// <summary>
/// Opens classification test sets from the one string a user types: a class-per-folder tree, a CSV of (path, label),
/// or <c>synthetic:shapes[:split]</c> (every zero-shot task of the built-in set, or one with <c>#task</c>).
/// </summary>
public static class LabeledDatasets
{
    /// <summary>
    /// All tasks named by <paramref name="spec"/>: one for a folder or CSV; for the synthetic set, its zero-shot tasks
    /// (all, or the one after '#', e.g. <c>synthetic:shapes:heldout#colour</c>).
    /// </summary>
    public static IReadOnlyList<LabeledDataset> Open(string spec, SyntheticShapesOptions? synthetic = null)
    {
        if (spec.StartsWith("synthetic:", StringComparison.OrdinalIgnoreCase)) return OpenSynthetic(spec, synthetic);
        if (Directory.Exists(spec)) return [FromFolderTree(spec)];
        if (File.Exists(spec) && Path.GetExtension(spec).ToLowerInvariant() is ".csv" or ".tsv") return [FromCsv(spec)];
        if (!File.Exists(spec)) throw new FileNotFoundException($"dataset not found: '{spec}' (expected a class-per-folder tree, a path,label CSV or synthetic:shapes[:split][#task])", spec);
        throw new ArgumentException($"{spec}: not a folder, .csv/.tsv or synthetic:shapes spec");
    }

    /// <summary>Each immediate sub-folder is a class (name: folder name with _ and - as spaces); images anywhere below it.</summary>
    public static LabeledDataset FromFolderTree(string root)
    {
        root = Path.GetFullPath(root);
        var classDirs = Directory.GetDirectories(root).Order(StringComparer.Ordinal).ToList();
        var names = new List<string>();
        var items = new List<LabeledImage>();
        foreach (var dir in classDirs)
        {
            var files = SharpClip.Files.FileTree.Walk(dir, ImageFormats.IsReadableName).Files
                .Select(f => f.Path).ToList();
            if (files.Count == 0) continue;
            int label = names.Count;
            names.Add(ClassNameOf(Path.GetFileName(dir)));
            items.AddRange(files.Select(f => new LabeledImage(Path.GetRelativePath(root, f).Replace('\\', '/'), new ImageFile(f), label)));
        }
        if (names.Count < 2) throw new InvalidDataException($"{root}: a class-per-folder dataset needs at least two sub-folders holding images, found {names.Count}");
        return new LabeledDataset(Path.GetFileName(root), names, items);
    }

    /// <summary>Folder names such as "golden_retriever" read as "golden retriever".</summary>
    public static string ClassNameOf(string folder) => folder.Replace('_', ' ').Replace('-', ' ').Trim();

    /// <summary>
    /// A CSV/TSV with a header naming an image column (path, image, file, filepath, image_path) and a label column
    /// (label, class, category). Classes are the distinct labels in order of first appearance; relative paths are
    /// resolved against the file's folder; missing files throw naming the line.
    /// </summary>
    public static LabeledDataset FromCsv(string csvPath)
    {
        char delimiter = Path.GetExtension(csvPath).ToLowerInvariant() is ".tsv" ? '\t' : ',';
        var root = Path.GetDirectoryName(Path.GetFullPath(csvPath))!;
        using var text = new StreamReader(csvPath, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var csv = new CsvRecordReader(text, csvPath, delimiter, quoting: true);
        var header = (csv.Next() ?? throw new DataFormatException(csvPath, 1, null, "empty file (expected a header path,label)")).Select(h => h.Trim()).ToList();
        csv.Header = header;
        int pathCol = Find(csvPath, header, ["path", "image", "file", "filepath", "image_path"], "image path");
        int labelCol = Find(csvPath, header, ["label", "class", "category", "classname"], "label");
        var names = new List<string>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var items = new List<LabeledImage>();
        while (csv.Next() is { } row)
        {
            if (row.Count <= Math.Max(pathCol, labelCol))
                throw new DataFormatException(csvPath, csv.RecordLine, null, $"row has {row.Count} field(s), expected at least {Math.Max(pathCol, labelCol) + 1}");
            var path = row[pathCol].Trim();
            var label = row[labelCol].Trim();
            if (label.Length == 0) throw new DataFormatException(csvPath, csv.RecordLine, header[labelCol], "empty label");
            var full = Path.GetFullPath(path, root);
            if (!File.Exists(full)) throw new DataFormatException(csvPath, csv.RecordLine, header[pathCol], $"image not found: {full}");
            if (!index.TryGetValue(label, out int c)) { c = names.Count; index[label] = c; names.Add(label); }
            items.Add(new LabeledImage(path, new ImageFile(full), c));
        }
        return new LabeledDataset(Path.GetFileNameWithoutExtension(csvPath), names, items);
    }

    static int Find(string file, List<string> header, string[] names, string role)
    {
        foreach (var n in names)
        {
            int i = header.FindIndex(h => string.Equals(h, n, StringComparison.OrdinalIgnoreCase));
            if (i >= 0) return i;
        }
        throw new DataFormatException(file, 1, role, $"no {role} column ({string.Join("/", names)}) in the header (columns: {string.Join(", ", header)})");
    }

    /// <summary><c>synthetic:shapes[:train|validation|heldout][#task]</c>; the split defaults to heldout.</summary>
    static IReadOnlyList<LabeledDataset> OpenSynthetic(string spec, SyntheticShapesOptions? options)
    {
        var (setSpec, task) = spec.IndexOf('#') is var hash and >= 0 ? (spec[..hash], spec[(hash + 1)..]) : (spec, null);
        if (setSpec.Count(c => c == ':') == 1) setSpec += ":heldout";
        var split = (SyntheticShapesSplit)ImageTextSources.Open(setSpec, new DataSourceOptions { Synthetic = options });
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
