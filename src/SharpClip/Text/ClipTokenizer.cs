using System.Collections.Concurrent;
using System.Text;
using SharpClip.Text.Cleanup;
using SharpClip.Text.Unicode;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Text;

/// <summary>
/// CLIP's tokenizer, token for token: the reference's text cleanup (ftfy 6.3.1 <c>fix_text</c>, HTML unescaped
/// twice, whitespace collapsed, Python lower-casing), its pre-tokenisation pattern, byte-level BPE, and
/// <c>clip.tokenize</c>'s start/end tokens, zero padding and truncation. Thread-safe: one instance can serve
/// every thread; large batches are encoded in parallel over the cores.
/// </summary>
public sealed class ClipTokenizer
{
    /// <summary>CLIP's context length.</summary>
    public const int DefaultContextLength = 77;
    /// <summary>File name of OpenAI's vocabulary.</summary>
    public const string OpenAiVocabFileName = "bpe_simple_vocab_16e6.txt.gz";
    /// <summary>Environment variable naming a default vocabulary.</summary>
    public const string VocabEnvironmentVariable = "CLIP_VOCAB";

    /// <summary>Batches at least this large are encoded in parallel.</summary>
    const int ParallelThreshold = 64;

    readonly BpeEncoder _bpe;

    /// <summary>The vocabulary in use.</summary>
    public BpeVocabulary Vocabulary { get; }
    /// <summary>Id of <c>&lt;|startoftext|&gt;</c> (49406 for CLIP).</summary>
    public int StartOfText => Vocabulary.StartOfText;
    /// <summary>Id of <c>&lt;|endoftext|&gt;</c> (49407 for CLIP); the text encoder pools at its first occurrence.</summary>
    public int EndOfText => Vocabulary.EndOfText;
    /// <summary>Number of token ids (49408 for CLIP).</summary>
    public int VocabSize => Vocabulary.Count;

    /// <summary>A tokenizer over any vocabulary (OpenAI's, a Hugging Face one, or one from <see cref="BpeTrainer"/>).</summary>
    public ClipTokenizer(BpeVocabulary vocabulary)
    {
        Vocabulary = vocabulary;
        _bpe = new BpeEncoder(vocabulary);
    }

    /// <summary>Loads any supported vocabulary layout (see <see cref="BpeVocabulary.Load"/>).</summary>
    public static ClipTokenizer Load(string path) => new(BpeVocabulary.Load(path));

    /// <summary>
    /// The vocabulary to use when none is given: <c>$CLIP_VOCAB</c>, else OpenAI's file next to the application;
    /// null when neither exists.
    /// </summary>
    public static string? FindDefaultVocab()
    {
        if (Environment.GetEnvironmentVariable(VocabEnvironmentVariable) is { Length: > 0 } env) return env;
        var beside = Path.Combine(AppContext.BaseDirectory, OpenAiVocabFileName);
        return File.Exists(beside) ? beside : null;
    }

    /// <summary>The reference's cleanup of a caption (the exact text BPE sees): useful to explain a tokenisation.</summary>
    public static string Clean(string text) => CodePoints.ToString(ClipTextCleaner.Clean(text));

    /// <summary>BPE ids of a text, without start/end tokens or padding (<c>SimpleTokenizer.encode</c>).</summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var cps = ClipTextCleaner.Clean(text);
        var ids = new List<int>(cps.Length);
        foreach (var piece in PreTokenizer.Split(cps))
        {
            var span = cps.AsSpan(piece.Start, piece.Length);
            switch (PreTokenizer.SpecialKind(span))
            {
                case 1: ids.Add(StartOfText); break;
                case 2: ids.Add(EndOfText); break;
                default:
                    ids.AddRange(_bpe.Encode(CodePoints.ToString(span), CodePoints.ToUtf8(span)));
                    break;
            }
        }
        return ids.ToArray();
    }

    /// <summary>
    /// Text of token ids (<c>SimpleTokenizer.decode</c>): bytes decoded as UTF-8 with U+FFFD for broken sequences,
    /// each word end becoming a space (so the result usually ends with one).
    /// </summary>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)VocabSize)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"token id {id} is outside the vocabulary (0..{VocabSize - 1})");
            foreach (char c in Vocabulary.Tokens[id])
            {
                if (ByteLevel.TryGetByte(c, out byte b)) bytes.Add(b);
                else bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString())); // a symbol outside the byte map (added tokens)
            }
        }
        return Utf8Decoder.DecodeReplace(bytes.ToArray()).Replace(BpeVocabulary.EndOfWord, " ");
    }

    /// <summary>BPE ids of many texts, in parallel for large batches.</summary>
    public int[][] EncodeBatch(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new int[texts.Count][];
        if (texts.Count < ParallelThreshold)
        {
            for (int i = 0; i < texts.Count; i++) { cancellationToken.ThrowIfCancellationRequested(); result[i] = Encode(texts[i]); }
            return result;
        }
        int chunk = Math.Max(16, texts.Count / (Environment.ProcessorCount * 8));
        var options = new ParallelOptions { CancellationToken = cancellationToken };
        Parallel.ForEach(Partitioner.Create(0, texts.Count, chunk), options, range =>
        {
            for (int i = range.Item1; i < range.Item2; i++) result[i] = Encode(texts[i]);
        });
        return result;
    }

    /// <summary>
    /// <c>clip.tokenize</c> without torch: per text, start token + ids + end token, zero-padded to
    /// <paramref name="contextLength"/>. A text that does not fit throws <see cref="TextTooLongException"/> (the
    /// first such text in the batch), unless <paramref name="truncate"/>, which keeps the first tokens and puts the
    /// end token last.
    /// </summary>
    public long[][] TokenizeToArrays(IReadOnlyList<string> texts, int contextLength = DefaultContextLength, bool truncate = false,
        CancellationToken cancellationToken = default) =>
        TokenizeToArrays(texts, contextLength, truncate, padId: 0, cancellationToken);

    /// <summary>
    /// <see cref="TokenizeToArrays(IReadOnlyList{string}, int, bool, CancellationToken)"/> padding with
    /// <paramref name="padId"/> instead of 0. Stable Diffusion v1's Hugging Face tokenizer pads with the end-of-text
    /// id (49407), and the padding changes the per-token states its U-Net attends to.
    /// </summary>
    public long[][] TokenizeToArrays(IReadOnlyList<string> texts, int contextLength, bool truncate, int padId,
        CancellationToken cancellationToken = default)
    {
        CheckContextLength(contextLength);
        if ((uint)padId >= (uint)VocabSize) throw new ArgumentOutOfRangeException(nameof(padId), padId, $"pad id must be a token id (0..{VocabSize - 1})");
        var encoded = EncodeBatch(texts, cancellationToken);
        var rows = new long[encoded.Length][];
        for (int i = 0; i < encoded.Length; i++)
        {
            var row = new long[contextLength];
            if (padId != 0) Array.Fill(row, padId);
            Fill(row, encoded[i], i, texts[i], contextLength, truncate);
            rows[i] = row;
        }
        return rows;
    }

    /// <summary>One text as <paramref name="contextLength"/> ids (start, BPE ids, end, zeros).</summary>
    public int[] TokenizeOne(string text, int contextLength = DefaultContextLength, bool truncate = false)
    {
        CheckContextLength(contextLength);
        var row = new long[contextLength];
        Fill(row, Encode(text), 0, text, contextLength, truncate);
        return row.Select(v => (int)v).ToArray();
    }

    /// <summary>
    /// <c>clip.tokenize</c>: an int64 tensor <c>[N, contextLength]</c> on the CPU, ready for the text encoder.
    /// Same padding, error and truncation rules as <see cref="TokenizeToArrays(IReadOnlyList{string}, int, bool, CancellationToken)"/>.
    /// </summary>
    public Tensor Tokenize(IReadOnlyList<string> texts, int contextLength = DefaultContextLength, bool truncate = false,
        CancellationToken cancellationToken = default) =>
        Tokenize(texts, contextLength, truncate, padId: 0, cancellationToken);

    /// <summary>
    /// <see cref="Tokenize(IReadOnlyList{string}, int, bool, CancellationToken)"/> padding with <paramref name="padId"/>
    /// instead of 0 (Stable Diffusion pads with the end-of-text id).
    /// </summary>
    public Tensor Tokenize(IReadOnlyList<string> texts, int contextLength, bool truncate, int padId,
        CancellationToken cancellationToken = default)
    {
        var rows = TokenizeToArrays(texts, contextLength, truncate, padId, cancellationToken);
        var flat = new long[rows.Length * (long)contextLength];
        for (int i = 0; i < rows.Length; i++) rows[i].CopyTo(flat, (long)i * contextLength);
        return torch.tensor(flat, new long[] { rows.Length, contextLength }, dtype: ScalarType.Int64); // [N, context]
    }

    /// <summary>One text as an int64 tensor <c>[1, contextLength]</c>.</summary>
    public Tensor Tokenize(string text, int contextLength = DefaultContextLength, bool truncate = false) =>
        Tokenize(new[] { text }, contextLength, truncate);

    void Fill(long[] row, int[] ids, int index, string text, int contextLength, bool truncate)
    {
        int total = ids.Length + 2;
        if (total > contextLength && !truncate) throw new TextTooLongException(index, text, total, contextLength);
        row[0] = StartOfText;
        int n = Math.Min(ids.Length, contextLength - 1);
        for (int k = 0; k < n; k++) row[k + 1] = ids[k];
        if (total <= contextLength) row[ids.Length + 1] = EndOfText;
        else row[contextLength - 1] = EndOfText;
    }

    static void CheckContextLength(int contextLength)
    {
        if (contextLength < 2) throw new ArgumentOutOfRangeException(nameof(contextLength), contextLength, "context length must be at least 2 (start and end tokens)");
    }
}
