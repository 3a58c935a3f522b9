namespace SharpClip.Text;

/// <summary>
/// A text's tokens (with start and end tokens) do not fit the context length and truncation was not asked for.
/// Names the text by its position in the batch and its beginning, so the caller can find it.
/// </summary>
public sealed class TextTooLongException : ArgumentException
{
    /// <summary>Position of the text in the batch.</summary>
    public int Index { get; }
    /// <summary>Tokens the text needs, start and end tokens included.</summary>
    public int TokenCount { get; }
    /// <summary>The context length it had to fit.</summary>
    public int ContextLength { get; }

    /// <summary>For the text at <paramref name="index"/>, which needs <paramref name="tokenCount"/> tokens.</summary>
    public TextTooLongException(int index, string text, int tokenCount, int contextLength)
        : base($"text {index} (\"{Prefix(text)}\") needs {tokenCount} tokens with start and end tokens, more than the context length {contextLength}; shorten it or enable truncation")
    {
        Index = index;
        TokenCount = tokenCount;
        ContextLength = contextLength;
    }

    static string Prefix(string text)
    {
        var oneLine = text.ReplaceLineEndings(" ");
        return oneLine.Length <= 40 ? oneLine : oneLine[..40] + "…";
    }
}
