using SharpClip.Text.Unicode;

namespace SharpClip.Text.Cleanup;

/// <summary>
/// A single-byte code page as Python (and ftfy) see it. ftfy's "sloppy" variants fill a code page's undefined
/// bytes with the Latin-1 character of the same number, and use byte 1A for U+FFFD, so that text decoded that
/// way by browsers and Windows can be re-encoded losslessly.
/// </summary>
internal sealed class SingleByteCodec
{
    readonly int[] _decode;                // byte → code point, -1 where undefined
    readonly Dictionary<int, byte> _encode;
    readonly CodePointSet _possible;       // ftfy's "could this text have come from this code page" class

    public string Name { get; }
    public bool IsSloppy { get; }

    SingleByteCodec(string name, int[] table, bool sloppy)
    {
        Name = sloppy ? "sloppy-" + name : name;
        IsSloppy = sloppy;
        _decode = (int[])table.Clone();
        if (sloppy)
        {
            for (int b = 0; b < 256; b++) if (_decode[b] < 0) _decode[b] = b;
            _decode[0x1A] = 0xFFFD;
        }
        _encode = new Dictionary<int, byte>();
        for (int b = 0; b < 256; b++)
            if (_decode[b] >= 0 && !_encode.TryAdd(_decode[b], (byte)b))
                throw new InvalidOperationException($"code page {Name} maps two bytes to U+{_decode[b]:X4}");
        // ASCII except 1A, plus whatever bytes 80..FF and 1A decode to.
        var extra = new List<int>();
        for (int b = 0x80; b < 256; b++) if (_decode[b] >= 0) extra.Add(_decode[b]);
        if (_decode[0x1A] >= 0) extra.Add(_decode[0x1A]);
        _possible = new CodePointSet([0x00, 0x19, 0x1B, 0x7F], extra.SelectMany(c => new[] { c, c }).ToArray());
        for (int b = 0; b < 0x80; b++)
            if (b != 0x1A && _decode[b] != b)
                throw new InvalidOperationException($"code page {Name} does not keep ASCII byte {b:X2}");
    }

    static int[] Table(string name) => name switch
    {
        "latin-1" => CodecTables.Decode_latin_1,
        "windows-1252" => CodecTables.Decode_windows_1252,
        "windows-1251" => CodecTables.Decode_windows_1251,
        "windows-1250" => CodecTables.Decode_windows_1250,
        "windows-1253" => CodecTables.Decode_windows_1253,
        "windows-1254" => CodecTables.Decode_windows_1254,
        "windows-1257" => CodecTables.Decode_windows_1257,
        "iso-8859-2" => CodecTables.Decode_iso_8859_2,
        "mac-roman" => CodecTables.Decode_mac_roman,
        "cp437" => CodecTables.Decode_cp437,
        _ => throw new ArgumentException($"no table for code page {name}"),
    };

    public static readonly SingleByteCodec Latin1 = new("latin-1", Table("latin-1"), sloppy: false);
    public static readonly SingleByteCodec Windows1252 = new("windows-1252", Table("windows-1252"), sloppy: false);
    public static readonly SingleByteCodec SloppyWindows1252 = new("windows-1252", Table("windows-1252"), sloppy: true);
    public static readonly SingleByteCodec MacRoman = new("mac-roman", Table("mac-roman"), sloppy: false);

    /// <summary>The code pages ftfy tries, in its order, when text looks like UTF-8 read as a single-byte encoding.</summary>
    public static readonly SingleByteCodec[] MojibakeCandidates =
    [
        Latin1,
        SloppyWindows1252,
        new("windows-1251", Table("windows-1251"), sloppy: true),
        new("windows-1250", Table("windows-1250"), sloppy: true),
        new("windows-1253", Table("windows-1253"), sloppy: true),
        new("windows-1254", Table("windows-1254"), sloppy: true),
        new("windows-1257", Table("windows-1257"), sloppy: true),
        new("iso-8859-2", Table("iso-8859-2"), sloppy: false),
        MacRoman,
        new("cp437", Table("cp437"), sloppy: false),
    ];

    public int DecodeByte(byte b) => _decode[b];

    /// <summary>ftfy's <c>possible_encoding</c>: every character is one this code page can produce.</summary>
    public bool CanEncode(ReadOnlySpan<int> text)
    {
        foreach (int c in text) if (!_possible.Contains(c)) return false;
        return true;
    }

    /// <summary>Encodes text for which <see cref="CanEncode"/> holds.</summary>
    public byte[] Encode(ReadOnlySpan<int> text)
    {
        var bytes = new byte[text.Length];
        for (int i = 0; i < text.Length; i++) bytes[i] = _encode[text[i]];
        return bytes;
    }

    /// <summary>Strict decoding; null when a byte is undefined in this code page.</summary>
    public int[]? Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new int[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            r[i] = _decode[bytes[i]];
            if (r[i] < 0) return null;
        }
        return r;
    }
}
