using System.Text;

namespace SharpClip.Text.Unicode;

/// <summary>
/// UTF-8 decoding with Python's exact semantics: strict (fails on any ill-formed byte), ftfy's "utf-8-variants"
/// (also accepts CESU-8 surrogate pairs and Java's C0 80 null), and errors="replace" (one U+FFFD per maximal
/// ill-formed subpart), which CLIP's decode uses.
/// </summary>
internal static class Utf8Decoder
{
    /// <summary>Length of the well-formed sequence starting at <paramref name="p"/>, or minus the length of the maximal ill-formed subpart there.</summary>
    static int SequenceAt(ReadOnlySpan<byte> b, int p, out int cp)
    {
        int lead = b[p];
        cp = lead;
        if (lead < 0x80) return 1;
        int need; int lo = 0x80, hi = 0xBF;
        if (lead is >= 0xC2 and <= 0xDF) { need = 1; cp = lead & 0x1F; }
        else if (lead is >= 0xE0 and <= 0xEF)
        {
            need = 2; cp = lead & 0x0F;
            if (lead == 0xE0) lo = 0xA0; else if (lead == 0xED) hi = 0x9F;
        }
        else if (lead is >= 0xF0 and <= 0xF4)
        {
            need = 3; cp = lead & 0x07;
            if (lead == 0xF0) lo = 0x90; else if (lead == 0xF4) hi = 0x8F;
        }
        else return -1; // invalid start byte: a subpart of length 1
        for (int k = 1; k <= need; k++)
        {
            if (p + k >= b.Length) return -k; // truncated: the lead and k-1 continuations form one ill-formed subpart
            int c = b[p + k];
            int l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
            if (c < l || c > h) return -k;
            cp = cp << 6 | c & 0x3F;
        }
        return need + 1;
    }

    /// <summary>Python's strict UTF-8 decoder; null when the bytes are not well-formed.</summary>
    public static int[]? DecodeStrict(ReadOnlySpan<byte> bytes)
    {
        var result = new List<int>(bytes.Length);
        for (int p = 0; p < bytes.Length;)
        {
            int len = SequenceAt(bytes, p, out int cp);
            if (len < 0) return null;
            result.Add(cp);
            p += len;
        }
        return result.ToArray();
    }

    /// <summary>
    /// ftfy's "utf-8-variants": strict UTF-8 plus CESU-8 (ED A0-AF xx ED B0-BF xx → one astral code point) and
    /// C0 80 → U+0000. Its patterns use Python's <c>$</c>, which also matches before a final newline, so a C0 or a
    /// CESU-8 sequence whose last byte is that final 0A is taken too; reproduced here.
    /// </summary>
    public static int[]? DecodeVariants(byte[] b)
    {
        int n = b.Length;
        var result = new List<int>(n);
        bool EndAt(int q) => q == n || (q == n - 1 && b[q] == 0x0A);
        for (int p = 0; p < n;)
        {
            if (b[p] == 0xC0)
            {
                if (p + 1 < n && (b[p + 1] == 0x80 || (b[p + 1] == 0x0A && p + 2 == n))) { result.Add(0); p += 2; continue; }
                return null;
            }
            if (b[p] == 0xED && (EndAt(p + 1) || b[p + 1] is >= 0xA0 and <= 0xBF))
            {
                if (n - p < 6) return null;
                bool cesu = b[p + 1] is >= 0xA0 and <= 0xAF && b[p + 2] is >= 0x80 and <= 0xBF && b[p + 3] == 0xED
                            && b[p + 4] is >= 0xB0 and <= 0xBF
                            && (b[p + 5] is >= 0x80 and <= 0xBF || (b[p + 5] == 0x0A && p + 6 == n));
                if (!cesu) return null;
                result.Add(((b[p + 1] & 0x0F) << 16) + ((b[p + 2] & 0x3F) << 10) + ((b[p + 4] & 0x0F) << 6) + (b[p + 5] & 0x3F) + 0x10000);
                p += 6;
                continue;
            }
            int len = SequenceAt(b, p, out int cp);
            if (len < 0) return null;
            result.Add(cp);
            p += len;
        }
        return result.ToArray();
    }

    /// <summary>Python's <c>bytes.decode("utf-8", errors="replace")</c>.</summary>
    public static string DecodeReplace(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        for (int p = 0; p < bytes.Length;)
        {
            int len = SequenceAt(bytes, p, out int cp);
            if (len > 0)
            {
                if (cp > 0xFFFF) sb.Append(char.ConvertFromUtf32(cp)); else sb.Append((char)cp);
                p += len;
            }
            else
            {
                sb.Append('\uFFFD');
                p += -len;
            }
        }
        return sb.ToString();
    }
}
