using SharpClip.Text.Unicode;
using static SharpClip.Text.Unicode.FtfyTables;

namespace SharpClip.Text.Cleanup;

/// <summary>
/// ftfy's "badness" heuristic: text is suspected mojibake when it contains one of a set of unlikely character
/// juxtapositions (a lower-case accented letter followed by a currency sign, C1 controls, "Ã©", "â€™", ...).
/// It decides both whether to try a repair and whether a repair is done. Each alternative of ftfy's pattern is
/// one clause of <see cref="MatchesAt"/>, in ftfy's order, over the character classes it names.
/// </summary>
internal static class MojibakeHeuristic
{
    static CodePointSet Set(params int[][] classes) => new(classes);
    static CodePointSet Set(string chars, params int[][] classes) => new(classes, chars);

    static readonly int[] Bad = Mojibake_bad, LA = Mojibake_lower_accented, UA = Mojibake_upper_accented,
        Box = Mojibake_box, SP = Mojibake_start_punctuation, EP = Mojibake_end_punctuation, Cur = Mojibake_currency,
        Num = Mojibake_numeric, Law = Mojibake_law, LC = Mojibake_lower_common, UC = Mojibake_upper_common,
        C1 = Mojibake_c1, Common = Mojibake_common, Kaomoji = Mojibake_kaomoji;

    static readonly CodePointSet SC1 = Set(C1), SBad = Set(Bad), SUA = Set(UA), SLA = Set(LA), SCur = Set(Cur),
        SSP = Set(SP), SEP = Set(EP), SBox = Set(Box), SKaomoji = Set(Kaomoji);
    static readonly CodePointSet BadEtc = Set(Bad, LA, UA, Box, SP, EP, Cur, Num, Law);
    static readonly CodePointSet AccentedEtc = Set(LA, UA, Box, SP, EP, Cur, Num, Law);
    static readonly CodePointSet Common2 = Set(LC, UC);
    static readonly CodePointSet Alt5a = Set(LA, LC, Box, EP, Cur, Num);
    static readonly CodePointSet Alt6a = Set(Box, EP, Cur, Num);
    static readonly CodePointSet Alt7a = Set(LA, Box, EP);
    static readonly CodePointSet UABox = Set(UA, Box);
    static readonly CodePointSet NumLaw = Set(Num, Law);
    static readonly CodePointSet Alt10a = Set(LA, UA, Box, Cur, EP);
    static readonly CodePointSet SNum = Set(Num);
    static readonly CodePointSet Alt11a = Set(LA, UA, Cur, Num, Box, Law);
    static readonly CodePointSet CurNumBox = Set(Cur, Num, Box);
    static readonly CodePointSet SPCur = Set(SP, Cur);
    static readonly CodePointSet Alt15a = Set(LA, UA, Cur, Num, SP, EP, Law);
    static readonly CodePointSet Accented = Set(LA, UA);
    static readonly CodePointSet Punct = Set(SP, EP);
    static readonly CodePointSet Alt20b = Set("\u20AC\u0153\u0160\u0161\u00A2\u00A3\u0178\u017E\u00A0\u00AD\u00AE\u00A9\u00B0\u00B7\u00BB\u2013\u2014\u00B4", SP, EP);
    static readonly CodePointSet Arabic = Set("\u0178\u0160\u00AE\u00B0\u00B5\u00BB", Common, Cur, Bad, Num, SP);
    static readonly CodePointSet Cyr1251 = Set("\u00B0\u00B5", C1, Bad, SP, EP, Cur);
    static readonly CodePointSet Greek1253 = Set("\u00B0", C1, Bad, SP, EP, Cur);
    static readonly CodePointSet Alt34a = Set(".,?!", [0x61, 0x7A], EP);
    static readonly CodePointSet Alt34c = Set(" ", SP, EP);

    static bool AsciiLetter(int c) => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z';
    static bool In(int c, string chars) => c >= 0 && c <= 0xFFFF && chars.Contains((char)c);

    /// <summary>ftfy's <c>is_bad</c>: does any alternative of the badness pattern match anywhere?</summary>
    public static bool IsBad(ReadOnlySpan<int> text)
    {
        for (int i = 0; i < text.Length; i++)
            if (MatchesAt(text, i)) return true;
        return false;
    }

    static bool MatchesAt(ReadOnlySpan<int> t, int i)
    {
        int n = t.Length;
        int c0 = t[i], c1 = i + 1 < n ? t[i + 1] : -1, c2 = i + 2 < n ? t[i + 2] : -1, c3 = i + 3 < n ? t[i + 3] : -1;
        bool Has(CodePointSet s, int c) => c >= 0 && s.Contains(c);

        if (Has(SC1, c0)) return true;
        if (Has(BadEtc, c0) && Has(SBad, c1)) return true;
        if (AsciiLetter(c0) && Has(Common2, c1) && Has(SBad, c2)) return true;
        if (Has(SBad, c0) && Has(AccentedEtc, c1)) return true;
        if (Has(Alt5a, c0) && Has(SUA, c1)) return true;
        if (Has(Alt6a, c0) && Has(SLA, c1)) return true;
        if (Has(Alt7a, c0) && Has(SCur, c1)) return true;
        if (Has(PythonText.Space, c0) && Has(SUA, c1) && Has(SCur, c2)) return true;
        if (Has(UABox, c0) && Has(NumLaw, c1)) return true;
        if (Has(Alt10a, c0) && Has(SSP, c1) && Has(SNum, c2)) return true;
        if (Has(Alt11a, c0) && Has(SEP, c1) && Has(SSP, c2)) return true;
        if (Has(CurNumBox, c0) && Has(SSP, c1)) return true;
        if (c0 is >= 'a' and <= 'z' && Has(SUA, c1) && Has(SPCur, c2)) return true;
        if (Has(SBox, c0) && Has(SKaomoji, c1)) return true;
        if (Has(Alt15a, c0) && Has(SBox, c1)) return true;
        if (Has(SBox, c0) && Has(SEP, c1)) return true;
        if (Has(Accented, c0) && Has(Punct, c1) && Has(PythonText.Word, c2)) return true;
        // The ligature œ when not followed by an unaccented Latin letter.
        if (c0 is 0x152 or 0x153 && c1 >= 0 && !AsciiLetter(c1)) return true;
        // Degree signs after capital letters.
        if (Has(SUA, c0) && c1 == 0xB0) return true;
        // Common Windows-1252 two-character mojibake.
        if (In(c0, "\u00C2\u00C3\u00CE\u00D0") && Has(Alt20b, c1)) return true;
        if (c0 == 0xD7 && c1 is 0xB2 or 0xB3) return true;
        // Windows-1252 mojibake of Arabic: four characters.
        if (c0 is 0xD8 or 0xD9 && Has(Arabic, c1) && c2 is 0xD8 or 0xD9 && Has(Arabic, c3)) return true;
        // Windows-1252 starts of three-character South Asian sequences.
        if (c0 == 0xE0 && In(c1, "\u00B2\u00B5\u00B9\u00BC\u00BD\u00BE")) return true;
        // MacRoman mojibake.
        if (c0 == 0x221A && In(c1, "\u00B1\u2202\u2020\u2260\u00AE\u2122\u00B4\u2264\u2265\u00A5\u00B5\u00F8")) return true;
        if (c0 == 0x2248 && c1 is 0xB0 or 0xA2) return true;
        if (c0 == 0x201A && c1 == 0xC4 && In(c2, "\u00EC\u00EE\u00EF\u00F2\u00F4\u00FA\u00F9\u00FB\u2020\u00B0\u00A2\u03C0")) return true;
        if (c0 == 0x201A && c1 is 0xE2 or 0xF3 && In(c2, "\u00E0\u00E4\u00B0\u00EA")) return true;
        // Windows-1251 mojibake.
        if (c0 == 0x432 && c1 == 0x402) return true;
        if (In(c0, "\u0412\u0413\u0420\u0421") && Has(Cyr1251, c1) && In(c2, "\u0412\u0413\u0420\u0421")) return true;
        if (c0 == 0x413 && c1 == 0x45E && c2 == 0x412 && c3 == 0x402 && i + 5 < n && t[i + 4] == 0x412
            && t[i + 5] != '\n' && i + 6 < n && (AsciiLetter(t[i + 6]) || t[i + 6] == ' ')) return true;
        // Windows-1252 encodings of 'à', 'á' and U+00A0 itself.
        if (c0 == 0xC3 && c1 is 0xA0 or 0xA1) return true;
        if (c0 is >= 'a' and <= 'z')
        {
            if (c1 is 0xC3 or 0xC2 && c2 == ' ') return true;
            if (Has(PythonText.Space, c1) && c2 is 0xC3 or 0xC2 && c3 == ' ') return true;
        }
        if (i == 0 && c0 is 0xC3 or 0xC2 && c1 == ' ') return true;
        // Â encoding exactly the following common character.
        if (Has(Alt34a, c0) && c1 == 0xC2 && Has(Alt34c, c2)) return true;
        // Windows-1253 mojibake.
        if (c0 == 0x3B2 && c1 == 0x20AC && In(c2, "\u2122\u00A0\u0386\u00AD\u00AE\u00B0")) return true;
        if (In(c0, "\u0392\u0393\u039E\u039F") && Has(Greek1253, c1) && In(c2, "\u0392\u0393\u039E\u039F")) return true;
        // Windows-1257 mojibake.
        if (c0 == 0x101 && c1 == 0x20AC) return true;
        return false;
    }
}
