namespace SharpClip.Text.Cleanup;

/// <summary>
/// Byte-level repairs ftfy applies to re-encoded text before decoding it as UTF-8: putting back A0 bytes that
/// became spaces, and marking UTF-8 sequences that lost a byte to U+FFFD (byte 1A in the sloppy code pages).
/// </summary>
internal static class ByteFixes
{
    static bool Cont(int b) => b is >= 0x80 and <= 0xBF;
    static bool ContNotA0or85(int b) => b is >= 0x80 and <= 0x84 or >= 0x86 and <= 0x9F or >= 0xA1 and <= 0xBF;

    /// <summary>Length of a UTF-8-with-a-space-for-A0 sequence at p (ftfy's ALTERED_UTF8_RE), or 0.</summary>
    static int AlteredUtf8At(byte[] b, int p)
    {
        int At(int k) => p + k < b.Length ? b[p + k] : -1;
        int b0 = b[p], b1 = At(1), b2 = At(2), b3 = At(3);
        if (b0 is 0xC2 or 0xC3 or 0xC5 or 0xCE or 0xD0 or 0xD9 && b1 == 0x20) return 2;
        if (b0 is 0xE2 or 0xE3 && b1 == 0x20 && ContNotA0or85(b2)) return 3;
        if (b0 is >= 0xE0 and <= 0xE3 && ContNotA0or85(b1) && b2 == 0x20) return 3;
        if (b0 == 0xF0)
        {
            if (b1 == 0x20 && Cont(b2) && Cont(b3)) return 4;
            if (Cont(b1) && b2 == 0x20 && Cont(b3)) return 4;
            if (Cont(b1) && Cont(b2) && b3 == 0x20) return 4;
        }
        return 0;
    }

    public static bool HasAlteredUtf8(byte[] b)
    {
        for (int p = 0; p < b.Length; p++) if (AlteredUtf8At(b, p) > 0) return true;
        return false;
    }

    /// <summary>
    /// ftfy's <c>restore_byte_a0</c>: first " Ã " as a word becomes "à " (keeping the space, except before the
    /// Portuguese "às", "àquele", ...), then every space inside an otherwise valid UTF-8 sequence becomes A0.
    /// </summary>
    public static byte[] RestoreByteA0(byte[] input)
    {
        var step1 = new List<byte>(input.Length + 4);
        for (int p = 0; p < input.Length; p++)
        {
            step1.Add(input[p]);
            if (input[p] == 0xC3 && p + 1 < input.Length && input[p + 1] == 0x20 && !FollowedByAGraveException(input, p + 2))
            {
                step1.Add(0xA0); step1.Add(0x20);
                p++;
            }
        }
        var b = step1.ToArray();
        var result = new List<byte>(b.Length);
        for (int p = 0; p < b.Length;)
        {
            int len = AlteredUtf8At(b, p);
            if (len == 0) { result.Add(b[p++]); continue; }
            for (int k = 0; k < len; k++) result.Add(b[p + k] == 0x20 ? (byte)0xA0 : b[p + k]);
            p += len;
        }
        return result.ToArray();
    }

    static bool FollowedByAGraveException(byte[] b, int q)
    {
        bool StartsWith(string s)
        {
            if (q + s.Length > b.Length) return false;
            for (int k = 0; k < s.Length; k++) if (b[q + k] != s[k]) return false;
            return true;
        }
        return StartsWith(" ") || StartsWith("quele") || StartsWith("quela") || StartsWith("quilo") || StartsWith("s ");
    }

    /// <summary>Length of ftfy's LOSSY_UTF8_RE match at p (a UTF-8 sequence with lost bytes), or 0.</summary>
    static int LossyAt(byte[] b, int p)
    {
        int At(int k) => p + k < b.Length ? b[p + k] : -1;
        static bool Lost(int x) => x is 0x1A or 0x3F;
        static bool LostOrCont(int x) => x is 0x1A or 0x3F or >= 0x80 and <= 0xBF;
        static bool SubOrCont(int x) => x is 0x1A or >= 0x80 and <= 0xBF;
        int b0 = b[p], b1 = At(1), b2 = At(2), b3 = At(3);
        if (b0 is >= 0xC2 and <= 0xDF && b1 == 0x1A) return 2;
        if (b0 is 0xC2 or 0xC3 && b1 == '?') return 2;
        if (b0 == 0xED && b1 is >= 0xA0 and <= 0xAF && b3 == 0xED)
        {
            int b4 = At(4), b5 = At(5);
            if (Lost(b2) && b4 is >= 0xB0 and <= 0xBF && LostOrCont(b5)) return 6;
            if (LostOrCont(b2) && b4 is >= 0xB0 and <= 0xBF && Lost(b5)) return 6;
        }
        if (b0 is >= 0xE0 and <= 0xEF)
        {
            if (Lost(b1) && SubOrCont(b2)) return 3;
            if (SubOrCont(b1) && Lost(b2)) return 3;
        }
        if (b0 is >= 0xF0 and <= 0xF4)
        {
            if (Lost(b1) && SubOrCont(b2) && SubOrCont(b3)) return 4;
            if (SubOrCont(b1) && Lost(b2) && SubOrCont(b3)) return 4;
            if (SubOrCont(b1) && SubOrCont(b2) && Lost(b3)) return 4;
        }
        if (b0 == 0x1A) return 1;
        return 0;
    }

    /// <summary>ftfy's <c>replace_lossy_sequences</c>: each such sequence becomes the UTF-8 of U+FFFD.</summary>
    public static byte[] ReplaceLossySequences(byte[] b)
    {
        List<byte>? result = null;
        for (int p = 0; p < b.Length;)
        {
            int len = LossyAt(b, p);
            if (len == 0) { result?.Add(b[p]); p++; continue; }
            result ??= new List<byte>(b.AsSpan(0, p).ToArray());
            result.Add(0xEF); result.Add(0xBF); result.Add(0xBD);
            p += len;
        }
        return result?.ToArray() ?? b;
    }
}
