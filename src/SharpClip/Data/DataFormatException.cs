namespace SharpClip.Data;

/// <summary>
/// A dataset file is structurally broken (bad CSV quoting, a line that is not JSON, a missing column or field, a
/// truncated tar). Unlike a missing image or an empty caption, which are skipped and counted, this stops reading:
/// it usually means the wrong file or the wrong column names, and training on half a dataset would hide it.
/// The message names the file, the line (or tar member) and the field.
/// </summary>
public sealed class DataFormatException : FormatException
{
    public DataFormatException(string file, long? line, string? field, string problem, Exception? inner = null)
        : base(Compose(file, line, field, problem), inner)
    {
        File = file;
        Line = line;
        Field = field;
    }

    /// <summary>The dataset file (CSV, JSONL, sidecar, tar shard).</summary>
    public string File { get; }

    /// <summary>1-based line number for text formats; null when not applicable.</summary>
    public long? Line { get; }

    /// <summary>Column, JSON field or tar member concerned; null when the whole line/file is bad.</summary>
    public string? Field { get; }

    private static string Compose(string file, long? line, string? field, string problem) =>
        file + (line is { } l ? $" line {l}" : "") + (field is null ? "" : $", field '{field}'") + ": " + problem;
}
