using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace SharpClip.Text;

/// <summary>
/// A byte-level BPE vocabulary in CLIP's style: token strings (over <see cref="ByteLevel"/> characters, word ends
/// marked "&lt;/w&gt;"), ranked merges, and the two special tokens. Loads and saves OpenAI's merges file
/// (<c>bpe_simple_vocab_16e6.txt.gz</c>) and the Hugging Face layouts (<c>vocab.json</c> + <c>merges.txt</c>,
/// or <c>tokenizer.json</c>), so a model trained elsewhere brings its own tokenizer.
/// </summary>
public sealed class BpeVocabulary
{
    /// <summary>Word-end marker appended to the last symbol of every word.</summary>
    public const string EndOfWord = "</w>";
    /// <summary>Merges CLIP uses from OpenAI's file (49152 - 256 - 2); the file itself lists more.</summary>
    public const int ClipMergeCount = 49152 - 256 - 2;

    readonly string[] _tokens;
    readonly Dictionary<string, int> _ids;
    readonly (string Left, string Right)[] _merges;

    /// <summary>Token strings by id.</summary>
    public IReadOnlyList<string> Tokens => _tokens;
    /// <summary>Merges in rank order (rank 0 is applied first).</summary>
    public IReadOnlyList<(string Left, string Right)> Merges => _merges;
    /// <summary>Id of <c>&lt;|startoftext|&gt;</c>.</summary>
    public int StartOfText { get; }
    /// <summary>Id of <c>&lt;|endoftext|&gt;</c>.</summary>
    public int EndOfText { get; }
    /// <summary>Number of ids (the model's embedding rows).</summary>
    public int Count => _tokens.Length;
    /// <summary>Where it was loaded from (for messages), or a description.</summary>
    public string Source { get; }

    internal Dictionary<long, int> RankOfPair { get; } = new();
    internal int[] MergedIdOfRank { get; }
    internal int[] MergeLeftId { get; }
    internal int[] MergeRightId { get; }
    internal int[] ByteId { get; } = new int[256];
    internal int[] ByteEndId { get; } = new int[256];

    /// <summary>Builds a vocabulary from explicit ids; every merge's parts and result, and every byte symbol, must be tokens.</summary>
    public BpeVocabulary(IReadOnlyList<string> tokens, IReadOnlyList<(string Left, string Right)> merges, string source = "in-memory vocabulary")
    {
        Source = source;
        _tokens = tokens.ToArray();
        _merges = merges.ToArray();
        _ids = new Dictionary<string, int>(_tokens.Length, StringComparer.Ordinal);
        for (int i = 0; i < _tokens.Length; i++) _ids[_tokens[i]] = i; // a repeated token keeps its last id, as CLIP's dict does
        StartOfText = Require("<|startoftext|>", "the start-of-text token");
        EndOfText = Require("<|endoftext|>", "the end-of-text token");
        for (int b = 0; b < 256; b++)
        {
            var c = ByteLevel.CharOfByte[b].ToString();
            ByteId[b] = Require(c, $"the symbol for byte 0x{b:X2}");
            ByteEndId[b] = Require(c + EndOfWord, $"the word-final symbol for byte 0x{b:X2}");
        }
        MergedIdOfRank = new int[_merges.Length];
        MergeLeftId = new int[_merges.Length];
        MergeRightId = new int[_merges.Length];
        for (int r = 0; r < _merges.Length; r++)
        {
            var (a, b) = _merges[r];
            int ia = Require(a, $"merge {r} ('{a} {b}'): its left part"), ib = Require(b, $"merge {r} ('{a} {b}'): its right part");
            MergedIdOfRank[r] = Require(a + b, $"merge {r} ('{a} {b}'): its result");
            (MergeLeftId[r], MergeRightId[r]) = (ia, ib);
            RankOfPair[(long)ia << 32 | (uint)ib] = r; // a repeated pair keeps its last rank, as CLIP's dict does
        }
    }

    int Require(string token, string what) =>
        _ids.TryGetValue(token, out int id) ? id : throw new InvalidDataException($"{Source}: {what} '{token}' is not in the vocabulary");

    /// <summary>Id of a token string, if present.</summary>
    public bool TryGetId(string token, out int id) => _ids.TryGetValue(token, out id);

    /// <summary>
    /// CLIP's own layout for a list of merges: the 256 byte symbols (in <see cref="ByteLevel.Bytes"/> order), the same
    /// with "&lt;/w&gt;", one token per merge, then &lt;|startoftext|&gt; and &lt;|endoftext|&gt;.
    /// </summary>
    public static BpeVocabulary FromMerges(IReadOnlyList<(string Left, string Right)> merges, string source = "in-memory vocabulary")
    {
        var tokens = new List<string>(512 + merges.Count + 2);
        foreach (var b in ByteLevel.Bytes) tokens.Add(ByteLevel.CharOfByte[b].ToString());
        foreach (var b in ByteLevel.Bytes) tokens.Add(ByteLevel.CharOfByte[b] + EndOfWord);
        foreach (var (l, r) in merges) tokens.Add(l + r);
        tokens.Add("<|startoftext|>");
        tokens.Add("<|endoftext|>");
        return new BpeVocabulary(tokens, merges, source);
    }

    /// <summary>
    /// Any supported layout: a <c>.gz</c> or <c>.txt</c> OpenAI merges file, a <c>tokenizer.json</c>, a <c>vocab.json</c>
    /// with <c>merges.txt</c> beside it, or a folder holding either Hugging Face layout.
    /// </summary>
    public static BpeVocabulary Load(string path)
    {
        if (Directory.Exists(path))
        {
            var tj = Path.Combine(path, "tokenizer.json");
            var vj = Path.Combine(path, "vocab.json");
            var mt = Path.Combine(path, "merges.txt");
            if (File.Exists(vj) && File.Exists(mt)) return LoadHuggingFace(vj, mt);
            if (File.Exists(tj)) return LoadTokenizerJson(tj);
            throw new FileNotFoundException($"no vocab.json + merges.txt or tokenizer.json in folder {path}", path);
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"vocabulary file not found: {path}", path);
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            using (var doc = ParseJson(path))
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("model", out _))
                    return LoadTokenizerJson(path);
            var merges = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "merges.txt");
            if (!File.Exists(merges)) throw new FileNotFoundException($"{path} needs merges.txt beside it (not found: {merges})", merges);
            return LoadHuggingFace(path, merges);
        }
        return LoadOpenAi(path);
    }

    /// <summary>
    /// OpenAI's merges file (gzip or plain text): a header line, then one "left right" merge per line. CLIP uses the
    /// first <see cref="ClipMergeCount"/> merges; a smaller file (e.g. from <see cref="BpeTrainer"/>) is used whole.
    /// </summary>
    public static BpeVocabulary LoadOpenAi(string path, int maxMerges = ClipMergeCount)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"vocabulary file not found: {path}", path);
        string text;
        try
        {
            var raw = File.ReadAllBytes(path);
            var bytes = raw;
            if (raw.Length >= 2 && raw[0] == 0x1F && raw[1] == 0x8B)
            {
                using var output = new MemoryStream();
                using (var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress)) gz.CopyTo(output);
                // GZipStream stops quietly at a cut-off end; the trailer's size field (length mod 2^32) tells.
                if (raw.Length < 18 || (uint)output.Length != BitConverter.ToUInt32(raw, raw.Length - 4))
                    throw new InvalidDataException("the gzip data is truncated or corrupt");
                bytes = output.ToArray();
            }
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (Exception e) when (e is InvalidDataException or DecoderFallbackException or EndOfStreamException)
        {
            throw new InvalidDataException($"{path}: not a readable BPE merges file ({e.Message})", e);
        }
        var lines = text.Split('\n');
        var merges = new List<(string, string)>();
        for (int i = 1; i < lines.Length && merges.Count < maxMerges; i++)
        {
            if (lines[i].Length == 0 && i == lines.Length - 1) break;
            var parts = lines[i].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2)
                throw new InvalidDataException($"{path}: line {i + 1} is not a merge of two symbols: '{Truncate(lines[i])}'");
            merges.Add((parts[0], parts[1]));
        }
        if (merges.Count == 0) throw new InvalidDataException($"{path}: no merges found");
        return FromMerges(merges, path);
    }

    /// <summary>Hugging Face's <c>vocab.json</c> (token → id) and <c>merges.txt</c> ("#version" header, "left right" lines).</summary>
    public static BpeVocabulary LoadHuggingFace(string vocabJsonPath, string mergesTxtPath)
    {
        if (!File.Exists(vocabJsonPath)) throw new FileNotFoundException($"vocabulary file not found: {vocabJsonPath}", vocabJsonPath);
        if (!File.Exists(mergesTxtPath)) throw new FileNotFoundException($"merges file not found: {mergesTxtPath}", mergesTxtPath);
        Dictionary<string, int> vocab;
        using (var doc = ParseJson(vocabJsonPath))
            vocab = ReadVocabObject(doc.RootElement, vocabJsonPath);
        var merges = new List<(string, string)>();
        var lines = File.ReadAllText(mergesTxtPath, Encoding.UTF8).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Length == 0 || (i == 0 && line.StartsWith('#'))) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new InvalidDataException($"{mergesTxtPath}: line {i + 1} is not a merge of two symbols: '{Truncate(line)}'");
            merges.Add((parts[0], parts[1]));
        }
        return new BpeVocabulary(DenseTokens(vocab, vocabJsonPath), merges, vocabJsonPath);
    }

    /// <summary>Hugging Face's single-file <c>tokenizer.json</c> (a BPE model with "&lt;/w&gt;" word ends, as CLIP's).</summary>
    public static BpeVocabulary LoadTokenizerJson(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"vocabulary file not found: {path}", path);
        using var doc = ParseJson(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: no \"model\" object (not a tokenizer.json)");
        if (model.TryGetProperty("type", out var type) && type.GetString() != "BPE")
            throw new NotSupportedException($"{path}: model.type is {type.GetString()}, only BPE is supported");
        if (model.TryGetProperty("end_of_word_suffix", out var suffix) && suffix.ValueKind == JsonValueKind.String && suffix.GetString() != EndOfWord)
            throw new NotSupportedException($"{path}: model.end_of_word_suffix is '{suffix.GetString()}', CLIP's BPE uses '{EndOfWord}'");
        if (!model.TryGetProperty("vocab", out var vocabElement))
            throw new InvalidDataException($"{path}: model.vocab is missing");
        var vocab = ReadVocabObject(vocabElement, path + " model.vocab");
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            foreach (var t in added.EnumerateArray())
                if (t.TryGetProperty("content", out var c) && t.TryGetProperty("id", out var id) && id.TryGetInt32(out int i))
                    vocab[c.GetString()!] = i;
        var merges = new List<(string, string)>();
        if (!model.TryGetProperty("merges", out var mergesElement) || mergesElement.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{path}: model.merges is missing");
        int k = 0;
        foreach (var m in mergesElement.EnumerateArray())
        {
            string[]? parts = m.ValueKind switch
            {
                JsonValueKind.String => m.GetString()!.Split(' '),
                JsonValueKind.Array => m.EnumerateArray().Select(p => p.GetString() ?? "").ToArray(),
                _ => null,
            };
            if (parts is not { Length: 2 } || parts[0].Length == 0 || parts[1].Length == 0)
                throw new InvalidDataException($"{path}: model.merges[{k}] is not a merge of two symbols");
            merges.Add((parts[0], parts[1]));
            k++;
        }
        return new BpeVocabulary(DenseTokens(vocab, path), merges, path);
    }

    static JsonDocument ParseJson(string path)
    {
        try { return JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e); }
    }

    static Dictionary<string, int> ReadVocabObject(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{where}: expected an object of token → id");
        var d = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0)
                throw new InvalidDataException($"{where}: token '{Truncate(p.Name)}' has no valid id");
            d[p.Name] = id;
        }
        return d;
    }

    static string[] DenseTokens(Dictionary<string, int> vocab, string where)
    {
        int n = vocab.Count == 0 ? 0 : vocab.Values.Max() + 1;
        var tokens = new string?[n];
        foreach (var (t, id) in vocab)
        {
            if (tokens[id] != null) throw new InvalidDataException($"{where}: id {id} is given to both '{tokens[id]}' and '{t}'");
            tokens[id] = t;
        }
        int missing = Array.IndexOf(tokens, null);
        if (missing >= 0) throw new InvalidDataException($"{where}: no token has id {missing} (ids must be 0..{n - 1})");
        return tokens!;
    }

    static string Truncate(string s) => s.Length <= 60 ? s : s[..60] + "…";

    /// <summary>Writes OpenAI's layout: gzip (when the name ends in .gz) of a header line and one merge per line.</summary>
    public void SaveOpenAi(string path)
    {
        var sb = new StringBuilder("#version: 0.2\n");
        foreach (var (l, r) in _merges) sb.Append(l).Append(' ').Append(r).Append('\n');
        var bytes = new UTF8Encoding(false).GetBytes(sb.ToString());
        WriteAtomically(path, stream =>
        {
            if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
            {
                using var gz = new GZipStream(stream, CompressionLevel.SmallestSize, leaveOpen: true);
                gz.Write(bytes);
            }
            else stream.Write(bytes);
        });
    }

    /// <summary>Writes Hugging Face's <c>vocab.json</c> and <c>merges.txt</c> into a folder.</summary>
    public void SaveHuggingFace(string directory)
    {
        Directory.CreateDirectory(directory);
        WriteAtomically(Path.Combine(directory, "vocab.json"), stream =>
        {
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            w.WriteStartObject();
            for (int i = 0; i < _tokens.Length; i++) w.WriteNumber(_tokens[i], i);
            w.WriteEndObject();
        });
        var sb = new StringBuilder("#version: 0.2\n");
        foreach (var (l, r) in _merges) sb.Append(l).Append(' ').Append(r).Append('\n');
        WriteAtomically(Path.Combine(directory, "merges.txt"), stream => stream.Write(new UTF8Encoding(false).GetBytes(sb.ToString())));
    }

    static void WriteAtomically(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = full + ".tmp";
        using (var stream = File.Create(tmp)) write(stream);
        File.Move(tmp, full, overwrite: true);
    }
}
