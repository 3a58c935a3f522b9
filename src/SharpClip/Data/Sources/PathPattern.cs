using System.IO.Enumeration;
using System.Text;

namespace SharpClip.Data.Sources;

/// <summary>
/// Expands shard specifications the way WebDataset/open_clip users write them: brace lists <c>{a,b}</c>, zero-padded
/// numeric ranges <c>shard-{000..009}.tar</c> (several braces multiply out), and <c>*</c>/<c>?</c> wildcards in any
/// path segment. Several specifications may be joined with <c>::</c>. Results are de-duplicated and sorted in
/// ordinal order within each wildcard match, in brace order otherwise — so shard order never depends on the file system.
/// </summary>
public static class PathPattern
{
    /// <summary>
    /// The existing files a pattern names. Throws <see cref="FileNotFoundException"/> naming the pattern when a
    /// literal path does not exist or a wildcard matches nothing (a typo should not silently train on fewer shards).
    /// </summary>
    public static IReadOnlyList<string> ExpandFiles(string pattern, string? baseDirectory = null)
    {
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in pattern.Split("::", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            foreach (var expanded in ExpandBraces(part))
            {
                var full = Path.GetFullPath(expanded, baseDirectory ?? Directory.GetCurrentDirectory());
                List<string> matches;
                if (HasWildcard(full))
                {
                    matches = Glob(full);
                    if (matches.Count == 0) throw new FileNotFoundException($"no file matches '{expanded}' (from pattern '{pattern}')", expanded);
                }
                else
                {
                    if (!File.Exists(full)) throw new FileNotFoundException($"file not found: '{expanded}' (from pattern '{pattern}')", full);
                    matches = [full];
                }
                foreach (var m in matches)
                    if (seen.Add(m)) result.Add(m);
            }
        if (result.Count == 0) throw new FileNotFoundException($"pattern '{pattern}' names no file", pattern);
        return result;
    }

    /// <summary>True when <paramref name="pattern"/> uses braces, wildcards or <c>::</c> (i.e. is not a plain path).</summary>
    public static bool IsPattern(string pattern) => pattern.Contains("::") || pattern.IndexOfAny(['{', '*', '?']) >= 0;

    /// <summary>
    /// Brace expansion only (no file system): <c>a{1..3}</c> → a1 a2 a3; <c>{x,y}{0..1}</c> → x0 x1 y0 y1. A range keeps
    /// the width of its first bound when that bound is zero-padded. Throws <see cref="FormatException"/> on an unclosed brace.
    /// </summary>
    public static IReadOnlyList<string> ExpandBraces(string pattern)
    {
        int open = pattern.IndexOf('{');
        if (open < 0) return [pattern];
        int depth = 0, close = -1;
        for (int i = open; i < pattern.Length; i++)
        {
            if (pattern[i] == '{') depth++;
            else if (pattern[i] == '}' && --depth == 0) { close = i; break; }
        }
        if (close < 0) throw new FormatException($"pattern '{pattern}': unclosed '{{' at position {open}");
        string head = pattern[..open], body = pattern[(open + 1)..close], tail = pattern[(close + 1)..];
        var tails = ExpandBraces(tail);
        var result = new List<string>();
        foreach (var alt in Alternatives(body, pattern))
            foreach (var a in ExpandBraces(alt))
                foreach (var t in tails)
                    result.Add(head + a + t);
        return result;
    }

    private static IEnumerable<string> Alternatives(string body, string pattern)
    {
        var range = body.Split("..");
        if (range.Length == 2 && long.TryParse(range[0], out var from) && long.TryParse(range[1], out var to))
        {
            int width = range[0].Length > 1 && range[0].TrimStart('-').StartsWith('0') ? range[0].Length : 0;
            long step = from <= to ? 1 : -1;
            if (Math.Abs(to - from) > 10_000_000) throw new FormatException($"pattern '{pattern}': range {{{body}}} is too large");
            for (long v = from; ; v += step)
            {
                yield return width > 0 ? v.ToString().PadLeft(width, '0') : v.ToString();
                if (v == to) yield break;
            }
        }
        // Split on top-level commas only, so nested braces survive for the recursive expansion.
        var sb = new StringBuilder();
        int depth = 0;
        var parts = new List<string>();
        foreach (var c in body)
        {
            if (c == ',' && depth == 0) { parts.Add(sb.ToString()); sb.Clear(); continue; }
            if (c == '{') depth++;
            if (c == '}') depth--;
            sb.Append(c);
        }
        parts.Add(sb.ToString());
        foreach (var p in parts) yield return p;
    }

    private static bool HasWildcard(string path) => path.IndexOfAny(['*', '?']) >= 0;

    private static List<string> Glob(string fullPattern)
    {
        var root = Path.GetPathRoot(fullPattern) ?? "";
        var segments = fullPattern[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        var current = new List<string> { root };
        for (int i = 0; i < segments.Length; i++)
        {
            bool last = i == segments.Length - 1;
            var seg = segments[i];
            var next = new List<string>();
            foreach (var dir in current)
            {
                if (!HasWildcard(seg))
                {
                    var p = Path.Combine(dir, seg);
                    if (last ? File.Exists(p) : Directory.Exists(p)) next.Add(p);
                    continue;
                }
                if (!Directory.Exists(dir)) continue;
                var entries = last ? Directory.EnumerateFiles(dir) : Directory.EnumerateDirectories(dir);
                next.AddRange(entries.Where(e => FileSystemName.MatchesSimpleExpression(seg, Path.GetFileName(e), ignoreCase: false))
                                     .Order(StringComparer.Ordinal));
            }
            current = next;
        }
        return current;
    }
}
