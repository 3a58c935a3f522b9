using System.Globalization;
using System.Text;

namespace SharpClip.Evaluation.Plotting;

/// <summary>
/// A 5×7 pixel font (capitals and digits 7 rows tall, two rows of descenders) for printable ASCII plus '…', drawn
/// here as data so plots carry titles, axis labels and tick values on any machine — no font files, no fontconfig, no
/// native text library. Letters are proportional (blank columns trimmed), digits keep the full 5 columns so numbers
/// line up in tables and tick labels. Text outside the set is folded to ASCII where that is lossless in meaning
/// (accents dropped, typographic quotes and dashes straightened); anything else becomes '?'.
/// </summary>
public static class BitmapFont
{
    /// <summary>Columns of a glyph cell.</summary>
    public const int CellWidth = 5;

    /// <summary>Rows from the top of a capital to the baseline; the box that alignment uses.</summary>
    public const int CapHeight = 7;

    /// <summary>Rows below the baseline (g, j, p, q, y, comma).</summary>
    public const int Descent = 2;

    /// <summary>Blank columns between glyphs.</summary>
    public const int Spacing = 1;

    /// <summary>Advance of a space, in columns (before <see cref="Spacing"/>).</summary>
    const int SpaceWidth = 3;

    /// <summary>
    /// The glyphs, 16 to a band in code-point order from ' ' (0x20) to '~' (0x7E), then '…'. Each band is a header
    /// naming the characters (each centred over its column) and nine pixel rows: '#' ink, '.' paper, one space
    /// between glyphs. The header is checked when the sheet is parsed, so a misplaced glyph fails loudly.
    /// </summary>
    const string Sheet = """
                !     "     #     $     %     &     '     (     )     *     +     ,     -     .     /
        ..... ..#.. .#.#. .#.#. ..#.. ##... .##.. ..#.. ...#. .#... ..... ..... ..... ..... ..... ....#
        ..... ..#.. .#.#. .#.#. .#### ##..# #..#. ..#.. ..#.. ..#.. ..#.. ..#.. ..... ..... ..... ....#
        ..... ..#.. .#.#. ##### #.#.. ...#. #.#.. .#... .#... ...#. #.#.# ..#.. ..... ..... ..... ...#.
        ..... ..#.. ..... .#.#. .###. ..#.. .#... ..... .#... ...#. .###. ##### ..... ####. ..... ..#..
        ..... ..#.. ..... ##### ..#.# .#... #.#.# ..... .#... ...#. #.#.# ..#.. ..... ..... ..... .#...
        ..... ..... ..... .#.#. ####. #..## #..#. ..... ..#.. ..#.. ..#.. ..#.. .##.. ..... .##.. #....
        ..... ..#.. ..... .#.#. ..#.. ...## .##.# ..... ...#. .#... ..... ..... .##.. ..... .##.. #....
        ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..#.. ..... ..... .....
        ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .#... ..... ..... .....
          0     1     2     3     4     5     6     7     8     9     :     ;     <     =     >     ?
        .###. ..#.. .###. ##### ...#. ##### ..##. ##### .###. .###. ..... ..... ...#. ..... .#... .###.
        #...# .##.. #...# ...#. ..##. #.... .#... ....# #...# #...# .##.. .##.. ..#.. ..... ..#.. #...#
        #..## ..#.. ....# ..#.. .#.#. ####. #.... ...#. #...# #...# .##.. .##.. .#... ##### ...#. ....#
        #.#.# ..#.. ...#. ...#. #..#. ....# ####. ..#.. .###. .#### ..... ..... #.... ..... ....# ...#.
        ##..# ..#.. ..#.. ....# ##### ....# #...# .#... #...# ....# .##.. .##.. .#... ##### ...#. ..#..
        #...# ..#.. .#... #...# ...#. #...# #...# .#... #...# ...#. .##.. .##.. ..#.. ..... ..#.. .....
        .###. .###. ##### .###. ...#. .###. .###. .#... .###. .##.. ..... ..#.. ...#. ..... .#... ..#..
        ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .#... ..... ..... ..... .....
        ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
          @     A     B     C     D     E     F     G     H     I     J     K     L     M     N     O
        .###. .###. ####. .###. ###.. ##### ##### .###. #...# ###.. ..### #...# #.... #...# #...# .###.
        #...# #...# #...# #...# #..#. #.... #.... #...# #...# .#... ...#. #..#. #.... ##.## #...# #...#
        #.### #...# #...# #.... #...# #.... #.... #.... #...# .#... ...#. #.#.. #.... #.#.# ##..# #...#
        #.#.# ##### ####. #.... #...# ####. ####. #.### ##### .#... ...#. ##... #.... #.#.# #.#.# #...#
        #.### #...# #...# #.... #...# #.... #.... #...# #...# .#... ...#. #.#.. #.... #...# #..## #...#
        #.... #...# #...# #...# #..#. #.... #.... #...# #...# .#... #..#. #..#. #.... #...# #...# #...#
        .#### #...# ####. .###. ###.. ##### #.... .#### #...# ###.. .##.. #...# ##### #...# #...# .###.
        ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
        ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
          P     Q     R     S     T     U     V     W     X     Y     Z     [     \     ]     ^     _
        ####. .###. ####. .#### ##### #...# #...# #...# #...# #...# ##### ###.. #.... ###.. ..#.. .....
        #...# #...# #...# #.... ..#.. #...# #...# #...# #...# #...# ....# #.... #.... ..#.. .#.#. .....
        #...# #...# #...# #.... ..#.. #...# #...# #...# .#.#. .#.#. ...#. #.... .#... ..#.. #...# .....
        ####. #...# ####. .###. ..#.. #...# #...# #.#.# ..#.. ..#.. ..#.. #.... ..#.. ..#.. ..... .....
        #.... #.#.# #.#.. ....# ..#.. #...# #...# #.#.# .#.#. ..#.. .#... #.... ...#. ..#.. ..... .....
        #.... #..#. #..#. ....# ..#.. #...# .#.#. #.#.# #...# ..#.. #.... #.... ....# ..#.. ..... .....
        #.... .##.# #...# ####. ..#.. .###. ..#.. .#.#. #...# ..#.. ##### ###.. ....# ###.. ..... .....
        ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... #####
        ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
          `     a     b     c     d     e     f     g     h     i     j     k     l     m     n     o
        #.... ..... #.... ..... ....# ..... ..##. ..... #.... .#... ...#. #.... ##... ..... ..... .....
        .#... ..... #.... ..... ....# ..... .#..# ..... #.... ..... ..... #.... .#... ..... ..... .....
        ..#.. .###. #.##. .###. .##.# .###. .#... .#### #.##. ##... ..##. #..#. .#... ##.#. #.##. .###.
        ..... ....# ##..# #.... #..## #...# ###.. #...# ##..# .#... ...#. #.#.. .#... #.#.# ##..# #...#
        ..... .#### #...# #.... #...# ##### .#... #...# #...# .#... ...#. ##... .#... #.#.# #...# #...#
        ..... #...# #...# #...# #...# #.... .#... #...# #...# .#... ...#. #.#.. .#... #.#.# #...# #...#
        ..... .#### ####. .###. .#### .###. .#... .#### #...# ###.. ...#. #..#. ###.. #.#.# #...# .###.
        ..... ..... ..... ..... ..... ..... ..... ....# ..... ..... #..#. ..... ..... ..... ..... .....
        ..... ..... ..... ..... ..... ..... ..... .###. ..... ..... .##.. ..... ..... ..... ..... .....
          p     q     r     s     t     u     v     w     x     y     z     {     |     }     ~     …
        ..... ..... ..... ..... .#... ..... ..... ..... ..... ..... ..... ...## ..#.. ##... ..... .....
        ..... ..... ..... ..... .#... ..... ..... ..... ..... ..... ..... ..#.. ..#.. ..#.. ..... .....
        ####. .#### #.##. .#### ####. #...# #...# #...# #...# #...# ##### ..#.. ..#.. ..#.. .#... .....
        #...# #...# ##..# #.... .#... #...# #...# #...# .#.#. #...# ...#. .#... ..#.. ...#. #.#.# .....
        #...# #...# #.... .###. .#... #...# #...# #.#.# ..#.. #...# ..#.. ..#.. ..#.. ..#.. ...#. .....
        #...# #...# #.... ....# .#..# #..## .#.#. #.#.# .#.#. #...# .#... ..#.. ..#.. ..#.. ..... .....
        ####. .#### #.... ####. ..##. .##.# ..#.. .#.#. #...# .#### ##### ...## ..#.. ##... ..... #.#.#
        #.... ....# ..... ..... ..... ..... ..... ..... ..... ....# ..... ..... ..#.. ..... ..... .....
        #.... ....# ..... ..... ..... ..... ..... ..... ..... .###. ..... ..... ..... ..... ..... .....
        """;

    /// <summary>The characters of the sheet, in order.</summary>
    static readonly string Characters = string.Concat(Enumerable.Range(0x20, 0x7F - 0x20).Select(c => (char)c)) + "…";

    static readonly Dictionary<char, Glyph> Glyphs = Parse();

    /// <summary>One character's pixels: <see cref="Rows"/>[y] has bit x set where column x (0 = left) is ink.</summary>
    sealed record Glyph(byte[] Rows, int Left, int Width);

    static Dictionary<char, Glyph> Parse()
    {
        var lines = Sheet.Split('\n');
        const int perBand = 16, rowsPerGlyph = CapHeight + Descent;
        var glyphs = new Dictionary<char, Glyph>();
        for (int start = 0; start < Characters.Length; start += perBand)
        {
            int band = start / perBand * (rowsPerGlyph + 1);
            var header = lines[band];
            int count = Math.Min(perBand, Characters.Length - start);
            for (int g = 0; g < count; g++)
            {
                char ch = Characters[start + g];
                int column = g * (CellWidth + 1);
                if (header.Length <= column + 2 ? ch != ' ' : header[column + 2] != ch)
                    throw new InvalidOperationException($"BitmapFont sheet: band {start / perBand} header does not name '{ch}' at column {column + 2}");
                var rows = new byte[rowsPerGlyph];
                for (int y = 0; y < rowsPerGlyph; y++)
                {
                    var line = lines[band + 1 + y];
                    for (int x = 0; x < CellWidth; x++)
                        if (line[column + x] == '#') rows[y] |= (byte)(1 << x);
                        else if (line[column + x] != '.') throw new InvalidOperationException($"BitmapFont sheet: '{line[column + x]}' in the glyph of '{ch}'");
                }
                glyphs[ch] = Trim(ch, rows);
            }
        }
        return glyphs;
    }

    /// <summary>Letters and punctuation lose their blank side columns; digits keep the cell width; space is fixed.</summary>
    static Glyph Trim(char ch, byte[] rows)
    {
        if (ch == ' ') return new Glyph(rows, 0, SpaceWidth);
        if (char.IsAsciiDigit(ch)) return new Glyph(rows, 0, CellWidth);
        int ink = rows.Aggregate(0, (a, r) => a | r);
        int left = System.Numerics.BitOperations.TrailingZeroCount(ink), right = 31 - System.Numerics.BitOperations.LeadingZeroCount((uint)ink);
        return new Glyph(rows, left, right - left + 1);
    }

    /// <summary>
    /// The text as the font will draw it: accents dropped (é → e), typographic quotes, dashes and spaces made ASCII,
    /// and every other character outside the sheet — including a whole surrogate pair such as an emoji — one '?'.
    /// </summary>
    public static string ToPrintable(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var rune in text.Normalize(NormalizationForm.FormD).EnumerateRunes())
        {
            if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark) continue;
            int v = rune.Value;
            char mapped = v switch
            {
                >= 0x20 and < 0x7F => (char)v,
                0x2026 => '…',
                0x2018 or 0x2019 or 0x201A or 0x2032 => '\'',
                0x201C or 0x201D or 0x201E or 0x2033 => '"',
                0x2010 or 0x2011 or 0x2012 or 0x2013 or 0x2014 or 0x2212 => '-',
                0x00A0 or 0x2002 or 0x2003 or 0x2009 or 0x202F or '\t' => ' ',
                0x00D7 => 'x',
                _ => '?',
            };
            sb.Append(mapped);
        }
        return sb.ToString();
    }

    /// <summary>Width in pixels of <paramref name="text"/> drawn at <paramref name="scale"/> (no trailing spacing).</summary>
    public static int Measure(string text, int scale = 1)
    {
        var printable = ToPrintable(text);
        if (printable.Length == 0) return 0;
        int width = 0;
        foreach (char ch in printable) width += Glyphs[ch].Width + Spacing;
        return (width - Spacing) * scale;
    }

    /// <summary>
    /// <paramref name="text"/> if it fits in <paramref name="maxWidth"/> pixels, else its longest prefix followed by
    /// '…' that does (just '…' when even one character is too wide).
    /// </summary>
    public static string Fit(string text, int maxWidth, int scale = 1)
    {
        var printable = ToPrintable(text);
        if (Measure(printable, scale) <= maxWidth) return printable;
        for (int n = printable.Length - 1; n > 0; n--)
        {
            var candidate = printable[..n].TrimEnd() + "…";
            if (Measure(candidate, scale) <= maxWidth) return candidate;
        }
        return "…";
    }

    /// <summary>
    /// Calls <paramref name="ink"/>(x, y) for every ink pixel of the (already printable) text at scale 1, x along the
    /// line from 0, y from 0 at the top of the capitals to <see cref="CapHeight"/> + <see cref="Descent"/> − 1.
    /// </summary>
    internal static void Rasterize(string printable, Action<int, int> ink)
    {
        int pen = 0;
        foreach (char ch in printable)
        {
            var glyph = Glyphs.TryGetValue(ch, out var g) ? g : Glyphs['?'];
            for (int y = 0; y < glyph.Rows.Length; y++)
                for (int x = 0; x < glyph.Width; x++)
                    if ((glyph.Rows[y] >> (glyph.Left + x) & 1) != 0) ink(pen + x, y);
            pen += glyph.Width + Spacing;
        }
    }
}
