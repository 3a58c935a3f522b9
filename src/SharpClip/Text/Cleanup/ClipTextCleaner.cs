using SharpClip.Text.Unicode;

namespace SharpClip.Text.Cleanup;

/// <summary>
/// CLIP's caption cleanup, <c>whitespace_clean(basic_clean(text)).lower()</c>: ftfy's <c>fix_text</c>, HTML
/// unescaped twice, stripped, runs of whitespace collapsed to one space, stripped, lower-cased (Python rules).
/// </summary>
internal static class ClipTextCleaner
{
    /// <summary>The cleaned text as code points (the BPE input).</summary>
    public static int[] Clean(string text)
    {
        if (IsPlainAscii(text)) return CleanPlainAscii(text);
        var cps = CodePoints.FromString(text);
        cps = TextFixer.FixText(cps);
        cps = HtmlUnescaper.Unescape(HtmlUnescaper.Unescape(cps));
        var collapsed = CollapseWhitespace(PythonText.Strip(cps));
        return PythonText.Lower(PythonText.Strip(collapsed));
    }

    /// <summary>
    /// Printable ASCII with tabs and line breaks and no '&amp;': every ftfy fix and both unescapes are no-ops, so
    /// only the whitespace collapse and ASCII lower-casing remain. Most captions take this path.
    /// </summary>
    static bool IsPlainAscii(string text)
    {
        foreach (char c in text)
            if (c is < ' ' and not ('\t' or '\n' or '\r') or > '~' or '&') return false;
        return true;
    }

    static int[] CleanPlainAscii(string text)
    {
        var result = new List<int>(text.Length);
        bool pendingSpace = false;
        foreach (char c in text)
        {
            if (c is ' ' or '\t' or '\n' or '\r') { pendingSpace = result.Count > 0; continue; }
            if (pendingSpace) { result.Add(' '); pendingSpace = false; }
            result.Add(c is >= 'A' and <= 'Z' ? c + 32 : c);
        }
        return result.ToArray();
    }

    /// <summary>The <c>regex</c> module's <c>re.sub(r'\s+', ' ', text)</c>.</summary>
    static int[] CollapseWhitespace(ReadOnlySpan<int> s)
    {
        var result = new List<int>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (PythonText.RegexSpace.Contains(s[i]))
            {
                while (i + 1 < s.Length && PythonText.RegexSpace.Contains(s[i + 1])) i++;
                result.Add(' ');
            }
            else result.Add(s[i]);
        }
        return result.ToArray();
    }
}
