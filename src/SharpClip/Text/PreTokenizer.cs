using SharpClip.Text.Unicode;

namespace SharpClip.Text;

/// <summary>
/// CLIP's pre-tokenisation pattern, applied to cleaned text:
/// <c>&lt;\|startoftext\|&gt;|&lt;\|endoftext\|&gt;|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>
/// with IGNORECASE, written out as a scanner over code points (so astral letters and digits count, which a
/// UTF-16 regex would get wrong). Alternatives are tried in that order at each position; whitespace is skipped.
/// Case-insensitive literals also accept U+017F ſ for 's' and U+212A K for 'k', as the <c>regex</c> module does.
/// </summary>
internal static class PreTokenizer
{
    public const string StartOfTextText = "<|startoftext|>";
    public const string EndOfTextText = "<|endoftext|>";
    static readonly string[] Contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    /// <summary>A token: [Start, Start+Length) of the text.</summary>
    public readonly record struct Piece(int Start, int Length);

    public static List<Piece> Split(ReadOnlySpan<int> t)
    {
        var pieces = new List<Piece>();
        int n = t.Length;
        for (int i = 0; i < n;)
        {
            int c = t[i], len = 0;
            if (c == '<')
            {
                if (MatchesIgnoreCase(t, i, StartOfTextText)) len = StartOfTextText.Length;
                else if (MatchesIgnoreCase(t, i, EndOfTextText)) len = EndOfTextText.Length;
            }
            else if (c == '\'')
            {
                foreach (var k in Contractions)
                    if (MatchesIgnoreCase(t, i, k)) { len = k.Length; break; }
            }
            if (len == 0)
            {
                if (PythonText.Letter.Contains(c))
                {
                    len = 1;
                    while (i + len < n && PythonText.Letter.Contains(t[i + len])) len++;
                }
                else if (PythonText.Number.Contains(c)) len = 1;
                else if (PythonText.Other.Contains(c))
                {
                    len = 1;
                    while (i + len < n && PythonText.Other.Contains(t[i + len])) len++;
                }
                else { i++; continue; } // whitespace, and U+0345 (its case folding ι is a letter, so no class takes it)
            }
            pieces.Add(new Piece(i, len));
            i += len;
        }
        return pieces;
    }

    static bool MatchesIgnoreCase(ReadOnlySpan<int> t, int i, string literal)
    {
        if (i + literal.Length > t.Length) return false;
        for (int k = 0; k < literal.Length; k++)
        {
            int c = t[i + k], p = literal[k];
            if (c == p) continue;
            if (p is >= 'a' and <= 'z' && (c == p - 32 || (p == 's' && c == 0x17F) || (p == 'k' && c == 0x212A))) continue;
            return false;
        }
        return true;
    }

    /// <summary>True when the piece is exactly one of the two special-token texts (these map to their ids, no BPE).</summary>
    public static int SpecialKind(ReadOnlySpan<int> piece)
    {
        if (Equals(piece, StartOfTextText)) return 1;
        if (Equals(piece, EndOfTextText)) return 2;
        return 0;
    }

    static bool Equals(ReadOnlySpan<int> piece, string s)
    {
        if (piece.Length != s.Length) return false;
        for (int k = 0; k < s.Length; k++) if (piece[k] != s[k]) return false;
        return true;
    }
}
