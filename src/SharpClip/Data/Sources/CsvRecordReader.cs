using System.Text;

namespace SharpClip.Data.Sources;

/// <summary>
/// A streaming RFC 4180 record reader: fields separated by one delimiter character, optionally enclosed in double
/// quotes, a quote inside a quoted field written twice, quoted fields may span lines; CRLF, LF or CR end a record.
/// Strict on purpose — a stray quote in an unquoted field or text after a closing quote usually means the wrong
/// delimiter or a corrupt export, so it throws <see cref="DataFormatException"/> with file, line and column instead
/// of silently shifting columns. With <c>quoting: false</c> (plain TSV such as CC3M's) quotes are ordinary characters.
/// </summary>
internal sealed class CsvRecordReader(TextReader reader, string fileName, char delimiter, bool quoting)
{
    private long _line = 1;
    private int _peeked = -2;

    /// <summary>1-based line on which the last returned record started.</summary>
    public long RecordLine { get; private set; }

    /// <summary>Names of the columns for error messages (set once the header is read).</summary>
    public IReadOnlyList<string>? Header { get; set; }

    /// <summary>The next record's fields, or null at end of file. Blank lines are skipped.</summary>
    public List<string>? Next()
    {
        while (true)
        {
            int c = Peek();
            if (c < 0) return null;
            if (c is '\r' or '\n') { ReadLineEnd(); continue; }
            break;
        }
        RecordLine = _line;
        var fields = new List<string>();
        var sb = new StringBuilder();
        while (true)
        {
            sb.Clear();
            int column = fields.Count;
            int c = Peek();
            if (quoting && c == '"')
            {
                Read();
                long openedAt = _line;
                while (true)
                {
                    int q = Read();
                    if (q < 0)
                        throw new DataFormatException(fileName, openedAt, ColumnName(column), "unterminated quoted field (no closing '\"' before end of file)");
                    if (q == '"')
                    {
                        if (Peek() == '"') { Read(); sb.Append('"'); continue; }
                        break;
                    }
                    if (q == '\r') { if (Peek() == '\n') Read(); _line++; sb.Append('\n'); continue; }
                    if (q == '\n') { _line++; sb.Append('\n'); continue; }
                    sb.Append((char)q);
                }
                int after = Peek();
                if (after >= 0 && after != delimiter && after != '\r' && after != '\n')
                    throw new DataFormatException(fileName, _line, ColumnName(column), $"unexpected '{(char)after}' after a closing quote (a quote inside a quoted field must be doubled)");
            }
            else
            {
                while (true)
                {
                    int u = Peek();
                    if (u < 0 || u == delimiter || u == '\r' || u == '\n') break;
                    if (quoting && u == '"')
                        throw new DataFormatException(fileName, _line, ColumnName(column), "quote inside an unquoted field (quote the whole field and double the inner quotes)");
                    sb.Append((char)Read());
                }
            }
            fields.Add(sb.ToString());
            int end = Peek();
            if (end == delimiter) { Read(); continue; }
            if (end >= 0) ReadLineEnd();
            return fields;
        }
    }

    private string ColumnName(int column) =>
        Header is { } h && column < h.Count ? h[column] : $"column {column + 1}";

    private void ReadLineEnd()
    {
        int c = Read();
        if (c == '\r' && Peek() == '\n') Read();
        _line++;
    }

    private int Peek()
    {
        if (_peeked == -2) _peeked = reader.Read();
        return _peeked;
    }

    private int Read()
    {
        int c = Peek();
        _peeked = -2;
        return c;
    }
}
