using System.Text;

namespace SharpClip.Text.Unicode;

/// <summary>
/// Conversions between .NET strings (UTF-16) and code point arrays. The reference works on Python strings, whose
/// unit is the code point, so the cleanup does too: lengths, positions and patterns then mean the same thing.
/// A lone surrogate is kept as its own code point, as Python keeps it.
/// </summary>
internal static class CodePoints
{
    public static int[] FromString(string s)
    {
        var result = new int[s.Length];
        int n = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                result[n++] = char.ConvertToUtf32(c, s[i + 1]);
                i++;
            }
            else result[n++] = c;
        }
        return n == result.Length ? result : result[..n];
    }

    public static string ToString(ReadOnlySpan<int> cps)
    {
        var sb = new StringBuilder(cps.Length);
        Append(sb, cps);
        return sb.ToString();
    }

    public static void Append(StringBuilder sb, ReadOnlySpan<int> cps)
    {
        foreach (int cp in cps)
        {
            if (cp > 0xFFFF) { sb.Append(char.ConvertFromUtf32(cp)); }
            else sb.Append((char)cp);
        }
    }

    public static bool IsAscii(ReadOnlySpan<int> cps)
    {
        foreach (int cp in cps) if (cp > 0x7F) return false;
        return true;
    }

    public static int IndexOf(ReadOnlySpan<int> cps, int value, int start = 0)
    {
        int i = cps[start..].IndexOf(value);
        return i < 0 ? -1 : i + start;
    }

    /// <summary>UTF-8 bytes of code points that contain no lone surrogate (the pre-tokeniser's tokens).</summary>
    public static byte[] ToUtf8(ReadOnlySpan<int> cps)
    {
        var bytes = new List<byte>(cps.Length * 2);
        foreach (int cp in cps)
        {
            if (cp < 0x80) bytes.Add((byte)cp);
            else if (cp < 0x800) { bytes.Add((byte)(0xC0 | cp >> 6)); bytes.Add((byte)(0x80 | cp & 0x3F)); }
            else if (cp < 0x10000)
            {
                if (cp is >= 0xD800 and <= 0xDFFF)
                    throw new ArgumentException($"lone surrogate U+{cp:X4} cannot be encoded as UTF-8");
                bytes.Add((byte)(0xE0 | cp >> 12)); bytes.Add((byte)(0x80 | cp >> 6 & 0x3F)); bytes.Add((byte)(0x80 | cp & 0x3F));
            }
            else
            {
                bytes.Add((byte)(0xF0 | cp >> 18)); bytes.Add((byte)(0x80 | cp >> 12 & 0x3F));
                bytes.Add((byte)(0x80 | cp >> 6 & 0x3F)); bytes.Add((byte)(0x80 | cp & 0x3F));
            }
        }
        return bytes.ToArray();
    }
}
