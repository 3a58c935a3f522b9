using System.Text;

namespace SharpClip.Data.Sources;

/// <summary>How to read a CSV/TSV image-text table.</summary>
public sealed record CsvSourceOptions
{
    /// <summary>Header of the image path column; null tries image, filepath, file, path, image_path, url in order.</summary>
    public string? ImageColumn { get; init; }

    /// <summary>Header of the caption column; null tries captions, caption, title, text in order.</summary>
    public string? CaptionColumn { get; init; }

    /// <summary>Field separator; null means tab for .tsv/.tab files and comma otherwise.</summary>
    public char? Delimiter { get; init; }

    /// <summary>RFC 4180 double-quote handling (default). Turn off for plain TSV whose captions contain bare quotes.</summary>
    public bool Quoting { get; init; } = true;

    /// <summary>
    /// If set, one caption cell may hold several captions separated by this string (e.g. "|"). Independently of this,
    /// consecutive rows naming the same image are merged into one sample with all their captions.
    /// </summary>
    public string? CaptionSeparator { get; init; }

    /// <summary>Directory that relative image paths are resolved against; null means the CSV file's own directory.</summary>
    public string? ImageRoot { get; init; }
}

/// <summary>
/// Image-text pairs from CSV/TSV files (a header row, then one row per image-caption pair). Each file is one shard;
/// a <see cref="PathPattern"/> may name several. Several captions for an image: repeat the row (consecutive rows with the
/// same image path form one sample) and/or separate them with <see cref="CsvSourceOptions.CaptionSeparator"/>.
/// Rows whose image file does not exist, or whose captions are all empty, are skipped and counted.
/// </summary>
public sealed class CsvSource : FileShardSource
{
    private readonly CsvSourceOptions _options;

    public CsvSource(string pathOrPattern, CsvSourceOptions? options = null) : base(pathOrPattern, "CSV")
    {
        _options = options ?? new CsvSourceOptions();
    }

    protected override IEnumerable<ImageTextSample> ReadFile(string file, DataStats stats, CancellationToken ct)
    {
        char delimiter = _options.Delimiter ?? (Path.GetExtension(file).ToLowerInvariant() is ".tsv" or ".tab" ? '\t' : ',');
        var root = _options.ImageRoot is { } r ? Path.GetFullPath(r) : Path.GetDirectoryName(Path.GetFullPath(file))!;
        using var text = new StreamReader(file, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        var csv = new CsvRecordReader(text, file, delimiter, _options.Quoting);
        var header = csv.Next() ?? throw new DataFormatException(file, 1, null, "empty file (expected a header row)");
        header = header.Select(h => h.Trim()).ToList();
        csv.Header = header;
        int imageCol = Column(file, header, _options.ImageColumn, CaptionText.DefaultImageNames, "image");
        int captionCol = Column(file, header, _options.CaptionColumn, CaptionText.DefaultCaptionNames, "caption");

        // Consecutive rows with the same image accumulate here.
        string? pendingPath = null;
        long pendingLine = 0;
        var pendingCaptions = new List<string>();

        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var row = csv.Next();
            string? path = null;
            if (row is not null)
            {
                int needed = Math.Max(imageCol, captionCol) + 1;
                if (row.Count < needed)
                {
                    int missing = row.Count <= imageCol ? imageCol : captionCol;
                    throw new DataFormatException(file, csv.RecordLine, header[missing],
                        $"row has {row.Count} field(s) but column '{header[missing]}' is number {missing + 1} (wrong delimiter '{Printable(delimiter)}'?)");
                }
                path = row[imageCol].Trim();
                if (path == pendingPath)
                {
                    AddCaptions(pendingCaptions, row[captionCol]);
                    continue;
                }
            }
            if (pendingPath is not null &&
                Build(file, root, pendingPath, pendingLine, pendingCaptions, stats) is { } sample)
                yield return sample;
            if (row is null) yield break;
            pendingPath = path;
            pendingLine = csv.RecordLine;
            pendingCaptions = [];
            AddCaptions(pendingCaptions, row[captionCol]);
        }
    }

    private void AddCaptions(List<string> into, string cell)
    {
        if (_options.CaptionSeparator is { Length: > 0 } sep) into.AddRange(CaptionText.Clean(cell.Split(sep)));
        else into.AddRange(CaptionText.Clean([cell]));
    }

    private static ImageTextSample? Build(string file, string root, string path, long line, List<string> captions, DataStats stats)
    {
        var where = $"{Path.GetFileName(file)} line {line}";
        if (path.Length == 0) { stats.Skip(SkipReason.MissingImage, $"empty image path ({where})"); return null; }
        var full = Path.GetFullPath(path, root);
        if (!File.Exists(full)) { stats.Skip(SkipReason.MissingImage, $"{full} ({where})"); return null; }
        if (captions.Count == 0) { stats.Skip(SkipReason.EmptyCaption, $"{path} ({where})"); return null; }
        return new ImageTextSample(path, new ImageFile(full), captions);
    }

    private static int Column(string file, List<string> header, string? configured, string[] defaults, string role)
    {
        if (configured is not null)
        {
            int i = CaptionText.Find(header, configured);
            if (i < 0) throw new DataFormatException(file, 1, configured, $"no {role} column '{configured}' in the header (columns: {string.Join(", ", header)})");
            return i;
        }
        foreach (var name in defaults)
        {
            int i = CaptionText.Find(header, name);
            if (i >= 0) return i;
        }
        throw new DataFormatException(file, 1, role, $"no {role} column: none of {string.Join(", ", defaults)} in the header (columns: {string.Join(", ", header)}); set the {role} column name");
    }

    private static string Printable(char c) => c == '\t' ? "\\t" : c.ToString();
}
