namespace SharpClip.Text.Unicode;

/// <summary>
/// Python's string semantics that CLIP's cleanup depends on, from tables generated out of the reference versions:
/// <c>str.isspace</c>/<c>strip</c>, <c>str.lower</c> (full mappings and the final-sigma rule), the <c>re</c>
/// module's <c>\s \w \d</c> and the <c>regex</c> module's <c>\s \p{L} \p{N}</c> (as CLIP's IGNORECASE pattern sees them).
/// </summary>
internal static class PythonText
{
    /// <summary>Python <c>str.isspace()</c> (and <c>re</c>'s <c>\s</c>).</summary>
    public static readonly CodePointSet Space = new(UnicodeTables.PythonSpace);
    /// <summary>Python <c>re</c>'s <c>\w</c>.</summary>
    public static readonly CodePointSet Word = new(UnicodeTables.PythonWord);
    /// <summary>Python <c>re</c>'s <c>\d</c>.</summary>
    public static readonly CodePointSet Decimal = new(UnicodeTables.PythonDecimal);
    /// <summary>The <c>regex</c> module's <c>\s</c>.</summary>
    public static readonly CodePointSet RegexSpace = new(UnicodeTables.RegexSpace);
    /// <summary>The <c>regex</c> module's <c>\p{L}</c>.</summary>
    public static readonly CodePointSet Letter = new(UnicodeTables.RegexLetter);
    /// <summary>The <c>regex</c> module's <c>\p{N}</c>.</summary>
    public static readonly CodePointSet Number = new(UnicodeTables.RegexNumber);
    /// <summary>The <c>regex</c> module's <c>[^\s\p{L}\p{N}]</c> under IGNORECASE (not quite the complement: U+0345 is in none).</summary>
    public static readonly CodePointSet Other = new(UnicodeTables.RegexOther);

    /// <summary>Code points Python 3.11's unicodedata does not know (Unicode 14.0).</summary>
    public static readonly CodePointSet Unassigned = new(UnicodeTables.PythonUnassigned);

    static readonly CodePointSet Cased = new(UnicodeTables.Cased);
    static readonly CodePointSet CaseIgnorable = new(UnicodeTables.CaseIgnorable);
    static readonly Dictionary<int, int[]> LowerMap = BuildLowerMap();

    static Dictionary<int, int[]> BuildLowerMap()
    {
        var map = new Dictionary<int, int[]>(UnicodeTables.LowerKeys.Length);
        for (int i = 0; i < UnicodeTables.LowerKeys.Length; i++)
            map[UnicodeTables.LowerKeys[i]] = CodePoints.FromString(UnicodeTables.LowerValues[i]);
        return map;
    }

    /// <summary>Python's <c>str.strip()</c>: removes leading and trailing <c>isspace</c> characters.</summary>
    public static ReadOnlySpan<int> Strip(ReadOnlySpan<int> s)
    {
        int a = 0, b = s.Length;
        while (a < b && Space.Contains(s[a])) a++;
        while (b > a && Space.Contains(s[b - 1])) b--;
        return s[a..b];
    }

    /// <summary>Python's <c>str.lower()</c>: full lower-case mappings (İ → i̇), and Σ → ς at the end of a word.</summary>
    public static int[] Lower(ReadOnlySpan<int> s)
    {
        var result = new List<int>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            int c = s[i];
            if (c < 0x80) result.Add(c is >= 'A' and <= 'Z' ? c + 32 : c);
            else if (c == 0x3A3) result.Add(IsFinalSigma(s, i) ? 0x3C2 : 0x3C3);
            else if (LowerMap.TryGetValue(c, out var lower)) result.AddRange(lower);
            else result.Add(c);
        }
        return result.ToArray();
    }

    /// <summary>Final_Sigma: a cased letter before (skipping case-ignorables) and none after (skipping them too).</summary>
    static bool IsFinalSigma(ReadOnlySpan<int> s, int i)
    {
        int j = i - 1;
        while (j >= 0 && CaseIgnorable.Contains(s[j])) j--;
        if (j < 0 || !Cased.Contains(s[j])) return false;
        j = i + 1;
        while (j < s.Length && CaseIgnorable.Contains(s[j])) j++;
        return j == s.Length || !Cased.Contains(s[j]);
    }
}
