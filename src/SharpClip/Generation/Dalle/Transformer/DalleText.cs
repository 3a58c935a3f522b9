using SharpClip.Text;

namespace SharpClip.Generation.Dalle.Transformer;

/// <summary>Captions → the transformer's text ids: CLIP's BPE with start and end tokens, cut to the text length, and
/// every position after the end token its own padding id (<c>text_vocab + position</c>), as DALLE-pytorch pads.</summary>
public static class DalleText
{
    /// <returns>[captions][text_length] ids in [0, text_vocab + text_length).</returns>
    public static long[][] Tokenize(ClipTokenizer tokenizer, IReadOnlyList<string> captions, int textLength)
    {
        var rows = tokenizer.TokenizeToArrays(captions, textLength, truncate: true);
        foreach (var row in rows) PadPerPosition(row, tokenizer.EndOfText, tokenizer.VocabSize);
        return rows;
    }

    /// <summary>Replaces everything after the first end token with per-position padding ids.</summary>
    public static void PadPerPosition(long[] row, int endOfText, int vocabSize)
    {
        int end = Array.IndexOf(row, (long)endOfText);
        if (end < 0) end = row.Length - 1;
        for (int t = end + 1; t < row.Length; t++) row[t] = vocabSize + t;
    }
}
