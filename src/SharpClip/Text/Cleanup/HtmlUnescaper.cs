using System.Collections.Frozen;
using SharpClip.Text.Unicode;

namespace SharpClip.Text.Cleanup;

/// <summary>
/// HTML character references, decoded two ways the reference uses: Python's <c>html.unescape</c> (HTML5 rules:
/// named references with or without ';', the longest known prefix, numeric references with the HTML5 remapping
/// table), and ftfy's more cautious <c>unescape_html</c> (only <c>&amp;name;</c> with the semicolon, plus
/// upper-cased names such as <c>&amp;EACUTE;</c>). .NET's WebUtility.HtmlDecode follows neither exactly.
/// </summary>
internal static class HtmlUnescaper
{
    static readonly FrozenDictionary<string, int[]> Html5 = Build(HtmlTables.Html5Names, HtmlTables.Html5Values);

    /// <summary>ftfy's table: every HTML5 name that ends in ';', plus the upper-cased extras.</summary>
    static readonly FrozenDictionary<string, int[]> FtfyEntities = BuildFtfy();

    static readonly FrozenDictionary<int, int[]> InvalidCharrefs =
        HtmlTables.InvalidCharrefKeys.Select((k, i) => (k, v: CodePoints.FromString(HtmlTables.InvalidCharrefValues[i])))
            .ToFrozenDictionary(e => e.k, e => e.v);

    static readonly FrozenSet<int> InvalidCodepoints = HtmlTables.InvalidCodepoints.ToFrozenSet();

    static FrozenDictionary<string, int[]> Build(string[] names, string[] values) =>
        names.Select((n, i) => (n, v: CodePoints.FromString(values[i]))).ToFrozenDictionary(e => e.n, e => e.v, StringComparer.Ordinal);

    static FrozenDictionary<string, int[]> BuildFtfy()
    {
        var d = new Dictionary<string, int[]>(StringComparer.Ordinal);
        for (int i = 0; i < HtmlTables.Html5Names.Length; i++)
            if (HtmlTables.Html5Names[i].EndsWith(';'))
                d[HtmlTables.Html5Names[i]] = CodePoints.FromString(HtmlTables.Html5Values[i]);
        for (int i = 0; i < HtmlTables.UpperNames.Length; i++)
            d[HtmlTables.UpperNames[i]] = CodePoints.FromString(HtmlTables.UpperValues[i]);
        return d.ToFrozenDictionary(StringComparer.Ordinal);
    }

    static bool IsAsciiDigit(int c) => c is >= '0' and <= '9';
    static bool IsHexDigit(int c) => c is >= '0' and <= '9' or >= 'a' and <= 'f' or >= 'A' and <= 'F';
    static bool IsAsciiAlnum(int c) => c is >= '0' and <= '9' or >= 'a' and <= 'z' or >= 'A' and <= 'Z';

    /// <summary>Python's <c>html.unescape</c>.</summary>
    public static int[] Unescape(int[] s)
    {
        if (Array.IndexOf(s, '&') < 0) return s;
        var result = new List<int>(s.Length);
        int n = s.Length;
        for (int i = 0; i < n;)
        {
            if (s[i] != '&') { result.Add(s[i++]); continue; }
            int j = i + 1;
            if (j < n && s[j] == '#')
            {
                // &#[0-9]+;?  then  &#[xX][0-9a-fA-F]+;?
                int k = j + 1;
                while (k < n && IsAsciiDigit(s[k])) k++;
                if (k > j + 1) { i = NumericRef(s, j + 1, k, 10, result); continue; }
                if (j + 1 < n && (s[j + 1] == 'x' || s[j + 1] == 'X'))
                {
                    k = j + 2;
                    while (k < n && IsHexDigit(s[k])) k++;
                    if (k > j + 2) { i = NumericRef(s, j + 2, k, 16, result); continue; }
                }
                result.Add('&'); i++;
                continue;
            }
            // [^\t\n\f <&#;]{1,32};?
            int e = j;
            while (e < n && e - j < 32 && s[e] is not ('\t' or '\n' or '\f' or ' ' or '<' or '&' or '#' or ';')) e++;
            if (e == j) { result.Add('&'); i++; continue; }
            if (e < n && s[e] == ';') e++;
            var name = CodePoints.ToString(s.AsSpan(j, e - j));
            if (Html5.TryGetValue(name, out var value)) result.AddRange(value);
            else
            {
                // The longest prefix (at least two characters) that is a name; the rest stays as text.
                var nameCps = s.AsSpan(j, e - j);
                bool found = false;
                for (int x = nameCps.Length - 1; x > 1; x--)
                {
                    if (Html5.TryGetValue(CodePoints.ToString(nameCps[..x]), out value))
                    {
                        result.AddRange(value);
                        result.AddRange(nameCps[x..]);
                        found = true;
                        break;
                    }
                }
                if (!found) { result.Add('&'); result.AddRange(nameCps); }
            }
            i = e;
        }
        return result.ToArray();
    }

    /// <summary>Appends the character a numeric reference stands for; returns the index after it (and its ';').</summary>
    static int NumericRef(int[] s, int start, int end, int radix, List<int> result)
    {
        long num = 0;
        for (int k = start; k < end; k++)
        {
            int d = s[k] <= '9' ? s[k] - '0' : (s[k] | 0x20) - 'a' + 10;
            num = num * radix + d;
            if (num > 0x10FFFF) num = 0x110000; // stays "too large" however many digits follow
        }
        if (InvalidCharrefs.TryGetValue((int)num, out var mapped)) result.AddRange(mapped);
        else if (num is >= 0xD800 and <= 0xDFFF || num > 0x10FFFF) result.Add(0xFFFD);
        else if (!InvalidCodepoints.Contains((int)num)) result.Add((int)num);
        return end < s.Length && s[end] == ';' ? end + 1 : end;
    }

    /// <summary>
    /// ftfy's <c>unescape_html</c>: <c>&amp;#?[0-9A-Za-z]{1,24};</c> is replaced when it names an entity in ftfy's
    /// table, or when it is a numeric reference that <c>html.unescape</c> decodes completely.
    /// </summary>
    public static int[] FtfyUnescape(int[] s)
    {
        if (Array.IndexOf(s, '&') < 0) return s;
        var result = new List<int>(s.Length);
        int n = s.Length;
        for (int i = 0; i < n;)
        {
            if (s[i] == '&')
            {
                int j = i + 1;
                if (j < n && s[j] == '#') j++;
                int e = j;
                while (e < n && IsAsciiAlnum(s[e])) e++;
                if (e - j is >= 1 and <= 24 && e < n && s[e] == ';')
                {
                    var match = s.AsSpan(i, e + 1 - i);
                    result.AddRange(FixupEntity(match));
                    i = e + 1;
                    continue;
                }
            }
            result.Add(s[i++]);
        }
        return result.ToArray();
    }

    static int[] FixupEntity(ReadOnlySpan<int> match)
    {
        var text = CodePoints.ToString(match);
        if (FtfyEntities.TryGetValue(text[1..], out var value)) return value;
        if (text.StartsWith("&#", StringComparison.Ordinal))
        {
            var unescaped = Unescape(match.ToArray());
            return Array.IndexOf(unescaped, ';') >= 0 ? match.ToArray() : unescaped;
        }
        return match.ToArray();
    }
}
