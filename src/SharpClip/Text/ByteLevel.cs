namespace SharpClip.Text;

/// <summary>
/// GPT-2/CLIP's reversible byte → character map: printable Latin-1 bytes stand for themselves and the other 68
/// bytes (controls, space, NBSP, soft hyphen) are moved to U+0100 upwards, so every BPE symbol is visible text.
/// The order of <see cref="Bytes"/> is the order of the first 256 ids of CLIP's vocabulary.
/// </summary>
public static class ByteLevel
{
    /// <summary>The 256 bytes in vocabulary order: printable ranges first, then the rest ascending.</summary>
    public static IReadOnlyList<byte> Bytes => _bytes;

    /// <summary>The character that stands for each byte value.</summary>
    public static IReadOnlyList<char> CharOfByte => _charOfByte;

    static readonly byte[] _bytes;
    static readonly char[] _charOfByte = new char[256];
    static readonly Dictionary<char, byte> _byteOfChar = new();

    static ByteLevel()
    {
        var order = new List<byte>();
        static bool Printable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        for (int b = 0; b < 256; b++) if (Printable(b)) { order.Add((byte)b); _charOfByte[b] = (char)b; }
        int next = 0;
        for (int b = 0; b < 256; b++)
            if (!Printable(b)) { order.Add((byte)b); _charOfByte[b] = (char)(256 + next++); }
        _bytes = order.ToArray();
        for (int b = 0; b < 256; b++) _byteOfChar[_charOfByte[b]] = (byte)b;
    }

    /// <summary>The byte a symbol character stands for, if it is one of the 256.</summary>
    public static bool TryGetByte(char c, out byte b) => _byteOfChar.TryGetValue(c, out b);

    /// <summary>UTF-8 bytes as the visible string BPE symbols are made of.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = _charOfByte[bytes[i]];
        return new string(chars);
    }
}
