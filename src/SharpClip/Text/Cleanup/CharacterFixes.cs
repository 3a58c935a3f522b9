using System.Collections.Frozen;
using System.Text;
using SharpClip.Text.Unicode;

namespace SharpClip.Text.Cleanup;

/// <summary>
/// ftfy's character-level fixes, each a pure function over code points, applied in this order after the encoding
/// repair: C1 controls as Windows-1252, Latin ligatures, character width, curly quotes, line breaks, surrogates,
/// terminal escapes, control characters; then NFC.
/// </summary>
internal static class CharacterFixes
{
    /// <summary>C1 controls U+0080..U+009F read as the Windows-1252 bytes they were (holes stay as they are).</summary>
    public static int[] FixC1Controls(int[] s)
    {
        if (!s.AsSpan().ContainsAnyInRange(0x80, 0x9F)) return s;
        var codec = SingleByteCodec.SloppyWindows1252;
        var r = (int[])s.Clone();
        for (int i = 0; i < r.Length; i++)
            if (r[i] is >= 0x80 and <= 0x9F) r[i] = codec.DecodeByte((byte)r[i]);
        return r;
    }

    /// <summary>Latin typographic ligatures and legacy digraphs split into their letters (ﬁ → fi, ǅ → Dž, ĳ → ij).</summary>
    static readonly FrozenDictionary<int, string> Ligatures = new Dictionary<int, string>
    {
        [0x0132] = "IJ", [0x0133] = "ij", [0x0149] = "\u02BCn",
        [0x01F1] = "DZ", [0x01F2] = "Dz", [0x01F3] = "dz",
        [0x01C4] = "D\u017D", [0x01C5] = "D\u017E", [0x01C6] = "d\u017E",
        [0x01C7] = "LJ", [0x01C8] = "Lj", [0x01C9] = "lj",
        [0x01CA] = "NJ", [0x01CB] = "Nj", [0x01CC] = "nj",
        [0xFB00] = "ff", [0xFB01] = "fi", [0xFB02] = "fl", [0xFB03] = "ffi", [0xFB04] = "ffl",
        [0xFB05] = "\u017Ft", [0xFB06] = "st",
    }.ToFrozenDictionary();

    static readonly FrozenDictionary<int, string> Widths =
        UnicodeTables.WidthKeys.Select((k, i) => (k, v: UnicodeTables.WidthValues[i])).ToFrozenDictionary(e => e.k, e => e.v);

    public static int[] FixLatinLigatures(int[] s) => Translate(s, Ligatures);

    /// <summary>Fullwidth ASCII, halfwidth katakana/hangul and U+3000 become their standard-width forms.</summary>
    public static int[] FixCharacterWidth(int[] s) => Translate(s, Widths);

    static int[] Translate(int[] s, FrozenDictionary<int, string> map)
    {
        List<int>? result = null;
        for (int i = 0; i < s.Length; i++)
        {
            if (map.TryGetValue(s[i], out var repl))
            {
                result ??= new List<int>(s.AsSpan(0, i).ToArray());
                foreach (var r in repl.EnumerateRunes()) result.Add(r.Value);
            }
            else result?.Add(s[i]);
        }
        return result?.ToArray() ?? s;
    }

    /// <summary>‘ ’ ‚ ‛ ʼ → ' and “ ” „ ‟ → ".</summary>
    public static int[] UncurlQuotes(int[] s)
    {
        int[]? r = null;
        for (int i = 0; i < s.Length; i++)
        {
            int c = s[i];
            int q = c is 0x02BC or >= 0x2018 and <= 0x201B ? '\'' : c is >= 0x201C and <= 0x201F ? '"' : -1;
            if (q >= 0) { r ??= (int[])s.Clone(); r[i] = q; }
        }
        return r ?? s;
    }

    /// <summary>CRLF, CR, U+2028, U+2029 and U+0085 become LF.</summary>
    public static int[] FixLineBreaks(int[] s)
    {
        if (!s.AsSpan().ContainsAny(stackalloc int[] { '\r', 0x2028, 0x2029, 0x85 })) return s;
        var r = new List<int>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            int c = s[i];
            if (c == '\r' && i + 1 < s.Length && s[i + 1] == '\n') { r.Add('\n'); i++; }
            else if (c is '\r' or 0x2028 or 0x2029 or 0x85) r.Add('\n');
            else r.Add(c);
        }
        return r.ToArray();
    }

    /// <summary>Surrogate code points: a high+low pair becomes the character it encodes, any other becomes U+FFFD.</summary>
    public static int[] FixSurrogates(int[] s)
    {
        if (!s.AsSpan().ContainsAnyInRange(0xD800, 0xDFFF)) return s;
        var r = new List<int>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            int c = s[i];
            if (c is >= 0xD800 and <= 0xDBFF && i + 1 < s.Length && s[i + 1] is >= 0xDC00 and <= 0xDFFF)
            {
                r.Add(0x10000 + (c - 0xD800) * 0x400 + (s[i + 1] - 0xDC00));
                i++;
            }
            else r.Add(c is >= 0xD800 and <= 0xDFFF ? 0xFFFD : c);
        }
        return r.ToArray();
    }

    /// <summary>ANSI escapes <c>ESC [ (digits|;)* letter</c> removed (digits are any Unicode decimal digit, as in Python's <c>\d</c>).</summary>
    public static int[] RemoveTerminalEscapes(int[] s)
    {
        if (Array.IndexOf(s, 0x1B) < 0) return s;
        var r = new List<int>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == 0x1B && i + 1 < s.Length && s[i + 1] == '[')
            {
                int k = i + 2;
                while (k < s.Length && (s[k] == ';' || PythonText.Decimal.Contains(s[k]))) k++;
                if (k < s.Length && s[k] is >= 'a' and <= 'z' or >= 'A' and <= 'Z') { i = k; continue; }
            }
            r.Add(s[i]);
        }
        return r.ToArray();
    }

    /// <summary>Controls with no visible effect removed: C0 except TAB/LF/FF/CR, DEL, U+206A..U+206F, BOM, U+FFF9..U+FFFC.</summary>
    public static int[] RemoveControlChars(int[] s)
    {
        List<int>? r = null;
        for (int i = 0; i < s.Length; i++)
        {
            if (IsRemovedControl(s[i])) r ??= new List<int>(s.AsSpan(0, i).ToArray());
            else r?.Add(s[i]);
        }
        return r?.ToArray() ?? s;
    }

    static bool IsRemovedControl(int c) =>
        c is >= 0x00 and <= 0x08 or 0x0B or >= 0x0E and <= 0x1F or 0x7F or >= 0x206A and <= 0x206F or 0xFEFF or >= 0xFFF9 and <= 0xFFFC;

    /// <summary>
    /// Unicode NFC, as Python 3.11's unicodedata (Unicode 14.0) does it. .NET's ICU may know newer characters (some
    /// are combining marks that would be reordered) and rejects U+FFFE; both are plain starters to Python, which
    /// nothing composes with or reorders across, so the text is normalised in pieces between them.
    /// </summary>
    public static int[] Nfc(int[] s)
    {
        if (CodePoints.IsAscii(s)) return s;
        var result = new List<int>(s.Length);
        int start = 0;
        for (int i = 0; i <= s.Length; i++)
        {
            if (i < s.Length && s[i] != 0xFFFE && !PythonText.Unassigned.Contains(s[i])) continue;
            var piece = CodePoints.ToString(s.AsSpan(start, i - start));
            result.AddRange(piece.IsNormalized(NormalizationForm.FormC) ? s.AsSpan(start, i - start) : CodePoints.FromString(piece.Normalize(NormalizationForm.FormC)));
            if (i < s.Length) result.Add(s[i]);
            start = i + 1;
        }
        return result.Count == s.Length && result.SequenceEqual(s) ? s : result.ToArray();
    }
}
