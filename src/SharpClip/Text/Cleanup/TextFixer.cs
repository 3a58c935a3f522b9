using SharpClip.Text.Unicode;

namespace SharpClip.Text.Cleanup;

/// <summary>
/// ftfy 6.3.1's <c>fix_text</c> with its default settings, which CLIP applies to every caption before BPE.
/// Text is fixed line by line; each line is repeatedly put through HTML unescaping, mojibake repair and the
/// character fixes until it stops changing. Once a line contains '&lt;' (the text may be real HTML), entities are
/// left alone for that line and every later one, exactly as ftfy does.
/// </summary>
internal static class TextFixer
{
    const int MaxDecodeLength = 1_000_000;

    public static int[] FixText(int[] text)
    {
        var result = new List<int>(text.Length);
        bool unescapeHtml = true;
        for (int pos = 0; pos < text.Length;)
        {
            int end = CodePoints.IndexOf(text, '\n', pos) + 1;
            if (end == 0) end = text.Length;
            if (end - pos > MaxDecodeLength) end = pos + MaxDecodeLength;
            var segment = text[pos..end];
            if (unescapeHtml && Array.IndexOf(segment, '<') >= 0) unescapeHtml = false;
            result.AddRange(FixSegment(segment, unescapeHtml));
            pos = end;
        }
        return result.ToArray();
    }

    static int[] FixSegment(int[] text, bool unescapeHtml)
    {
        while (true)
        {
            var original = text;
            if (unescapeHtml) text = HtmlUnescaper.FtfyUnescape(text);
            text = EncodingFixer.FixEncoding(text);
            text = CharacterFixes.FixC1Controls(text);
            text = CharacterFixes.FixLatinLigatures(text);
            text = CharacterFixes.FixCharacterWidth(text);
            text = CharacterFixes.UncurlQuotes(text);
            text = CharacterFixes.FixLineBreaks(text);
            text = CharacterFixes.FixSurrogates(text);
            text = CharacterFixes.RemoveTerminalEscapes(text);
            text = CharacterFixes.RemoveControlChars(text);
            text = CharacterFixes.Nfc(text);
            if (text.AsSpan().SequenceEqual(original)) return text;
        }
    }
}
