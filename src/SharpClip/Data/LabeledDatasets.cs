using System.Text;
using SharpClip.Data.Sources;
using SharpClip.Vision;

namespace SharpClip.Data;

/// <summary>
/// Opens classification test sets from the one string a user types: a class-per-folder tree, a CSV of (path, label),
/// or a <c>scheme:...</c> spec registered with <see cref="Register"/> (e.g. every zero-shot task of a generated set).
/// </summary>
public static class LabeledDatasets
{
    /// <summary>Opens the labelled sets a registered <c>scheme:...</c> spec names; <paramref name="options"/> carries the scheme's settings.</summary>
    public delegate IReadOnlyList<LabeledDataset> SchemeOpener(string spec, DataSourceOptions? options);

    sealed record Scheme(string Name, SchemeOpener Open, string Usage);

    static readonly object Gate = new();
    static readonly List<Scheme> Schemes = [];

    /// <summary>
    /// Teaches <see cref="Open"/> a spec form <c>scheme:...</c>, so the evaluation verbs take data sets that live
    /// outside the core library. A later registration of the same scheme replaces the earlier one.
    /// </summary>
    /// <param name="scheme">The prefix before the first ':' (matched ignoring case).</param>
    /// <param name="open">Opens a spec of this scheme.</param>
    /// <param name="usage">How to write the spec (e.g. <c>synthetic:shapes[:split][#task]</c>), named in errors.</param>
    public static void Register(string scheme, SchemeOpener open, string usage)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scheme);
        ArgumentNullException.ThrowIfNull(open);
        lock (Gate)
        {
            Schemes.RemoveAll(s => string.Equals(s.Name, scheme, StringComparison.OrdinalIgnoreCase));
            Schemes.Add(new Scheme(scheme, open, usage));
        }
    }

    /// <summary>
    /// All tasks named by <paramref name="spec"/>: one for a folder or CSV; for a registered scheme, what it opens
    /// (e.g. every zero-shot task of a generated set, or the one after '#').
    /// </summary>
    public static IReadOnlyList<LabeledDataset> Open(string spec, DataSourceOptions? options = null)
    {
        Scheme[] schemes;
        lock (Gate) schemes = [.. Schemes];
        if (spec.IndexOf(':') is var colon and > 0 && schemes.FirstOrDefault(s => string.Equals(s.Name, spec[..colon], StringComparison.OrdinalIgnoreCase)) is { } scheme)
            return scheme.Open(spec, options);
        if (Directory.Exists(spec)) return [FromFolderTree(spec)];
        if (File.Exists(spec) && Path.GetExtension(spec).ToLowerInvariant() is ".csv" or ".tsv") return [FromCsv(spec)];
        var others = string.Concat(schemes.Select(s => " or " + s.Usage));
        if (!File.Exists(spec)) throw new FileNotFoundException($"dataset not found: '{spec}' (expected a class-per-folder tree, a path,label CSV{others})", spec);
        throw new ArgumentException($"{spec}: not a folder, .csv/.tsv{others} spec");
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
}
