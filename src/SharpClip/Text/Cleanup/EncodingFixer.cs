using SharpClip.Text.Unicode;
using static SharpClip.Text.Unicode.FtfyTables;

namespace SharpClip.Text.Cleanup;

/// <summary>
/// ftfy's <c>fix_encoding</c>: while the text looks like mojibake, find a single-byte code page that could have
/// produced it from UTF-8, re-encode and decode as UTF-8; failing that, repair embedded UTF-8 fragments alone,
/// then Latin-1 C1 controls as Windows-1252. Repeats until nothing changes.
/// </summary>
internal static class EncodingFixer
{
    static readonly CodePointSet FirstOf2 = new(Clue_utf8_first_of_2), FirstOf3 = new(Clue_utf8_first_of_3),
        FirstOf4 = new(Clue_utf8_first_of_4), Continuation = new(Clue_utf8_continuation),
        ContinuationStrict = new(Clue_utf8_continuation_strict);

    public static int[] FixEncoding(int[] text)
    {
        while (true)
        {
            var next = FixOneStep(text);
            if (next.AsSpan().SequenceEqual(text)) return next;
            text = next;
        }
    }

    static int[] FixOneStep(int[] text)
    {
        if (text.Length == 0 || CodePoints.IsAscii(text) || !MojibakeHeuristic.IsBad(text)) return text;

        bool latin1Possible = false;
        foreach (var codec in SingleByteCodec.MojibakeCandidates)
        {
            if (!codec.CanEncode(text)) continue;
            if (codec == SingleByteCodec.Latin1) latin1Possible = true;
            var bytes = codec.Encode(text);
            if (codec != SingleByteCodec.MacRoman && ByteFixes.HasAlteredUtf8(bytes)) bytes = ByteFixes.RestoreByteA0(bytes);
            if (codec.IsSloppy) bytes = ByteFixes.ReplaceLossySequences(bytes);
            bool variants = Array.IndexOf(bytes, (byte)0xED) >= 0 || Array.IndexOf(bytes, (byte)0xC0) >= 0;
            var decoded = variants ? Utf8Decoder.DecodeVariants(bytes) : Utf8Decoder.DecodeStrict(bytes);
            if (decoded != null) return decoded;
        }

        if (HasUtf8Fragment(text))
        {
            var fixedText = DecodeInconsistentUtf8(text);
            if (!fixedText.AsSpan().SequenceEqual(text)) return fixedText;
        }

        // ftfy means "Latin-1 that is not also Windows-1252", but its check compares against a name that is never in
        // its list, so any Latin-1-encodable text gets here: C1 controls decode as (strict) Windows-1252.
        if (latin1Possible)
        {
            var asCp1252 = SingleByteCodec.Windows1252.Decode(SingleByteCodec.Latin1.Encode(text));
            if (asCp1252 != null && !asCp1252.AsSpan().SequenceEqual(text)) return asCp1252;
        }

        if (text.AsSpan().ContainsAnyInRange(0x80, 0x9F)) return CharacterFixes.FixC1Controls(text);
        return text;
    }

    /// <summary>Length of a run of UTF-8-looking fragments (ftfy's UTF8_DETECTOR_RE) starting at p, or 0.</summary>
    static int Utf8FragmentAt(ReadOnlySpan<int> t, int p)
    {
        if (p > 0 && ContinuationStrict.Contains(t[p - 1])) return 0;
        int q = p;
        while (q < t.Length)
        {
            if (FirstOf2.Contains(t[q]) && Conts(t, q + 1, 1)) q += 2;
            else if (FirstOf3.Contains(t[q]) && Conts(t, q + 1, 2)) q += 3;
            else if (FirstOf4.Contains(t[q]) && Conts(t, q + 1, 3)) q += 4;
            else break;
        }
        return q - p;
    }

    static bool Conts(ReadOnlySpan<int> t, int start, int count)
    {
        if (start + count > t.Length) return false;
        for (int k = 0; k < count; k++) if (!Continuation.Contains(t[start + k])) return false;
        return true;
    }

    static bool HasUtf8Fragment(ReadOnlySpan<int> t)
    {
        for (int p = 0; p < t.Length; p++) if (Utf8FragmentAt(t, p) > 0) return true;
        return false;
    }

    /// <summary>ftfy's <c>decode_inconsistent_utf8</c>: fixes each UTF-8-looking fragment that is itself bad on its own.</summary>
    static int[] DecodeInconsistentUtf8(int[] text)
    {
        var result = new List<int>(text.Length);
        for (int p = 0; p < text.Length;)
        {
            int len = Utf8FragmentAt(text, p);
            if (len == 0) { result.Add(text[p++]); continue; }
            var fragment = text.AsSpan(p, len).ToArray();
            result.AddRange(len < text.Length && MojibakeHeuristic.IsBad(fragment) ? FixEncoding(fragment) : fragment);
            p += len;
        }
        return result.ToArray();
    }
}
