namespace SharpClip.ZeroShot;

/// <summary>
/// Class names a user gives for zero-shot classification: comma-separated inline, or one per line in a file. Names
/// are trimmed and blanks dropped; at least two are needed (one class has nothing to compete with) and none may
/// repeat (two equal columns would split the probability between them).
/// </summary>
public static class ClassLabels
{
    /// <summary>"a, b,c" → [a, b, c]; <paramref name="origin"/> names the value in errors.</summary>
    public static IReadOnlyList<string> Parse(string commaSeparated, string origin) => Checked(commaSeparated.Split(','), origin);

    /// <summary>One class name per line of <paramref name="path"/>.</summary>
    public static IReadOnlyList<string> ReadFile(string path) =>
        File.Exists(path) ? Checked(File.ReadAllLines(path), path) : throw new FileNotFoundException($"{path}: no such labels file", path);

    static List<string> Checked(IEnumerable<string> names, string origin)
    {
        var list = names.Select(s => s.Trim()).Where(s => s.Length > 0).ToList();
        if (list.Count < 2) throw new ArgumentException($"{origin}: need at least two class names, got {list.Count}");
        var dup = list.GroupBy(s => s).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"{origin}: class '{dup.Key}' appears twice");
        return list;
    }
}
