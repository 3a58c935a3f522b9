using System.IO.Compression;
using System.Text;
using System.Text.Json;
using SharpClip.Tests.Infrastructure;
using SharpClip.Text;

namespace SharpClip.Tests.Text;

public class VocabularyFormatTests
{
    /// <summary>
    /// A tiny Hugging Face vocabulary: the 512 byte symbols under shuffled ids (so ids must come from the file),
    /// three merges, the specials. Merges: "h e", "l o", "lo w&lt;/w&gt;".
    /// </summary>
    static (Dictionary<string, int> Vocab, string[] Merges) TinyVocab()
    {
        var tokens = new List<string>();
        for (int b = 0; b < 256; b++) tokens.Add(ByteLevel.CharOfByte[b].ToString());
        for (int b = 0; b < 256; b++) tokens.Add(ByteLevel.CharOfByte[b] + "</w>");
        tokens.AddRange(["he", "lo", "low</w>", "<|startoftext|>", "<|endoftext|>"]);
        var ids = Enumerable.Range(0, tokens.Count).ToArray();
        new Random(7).Shuffle(ids);
        return (tokens.Select((t, i) => (t, i)).ToDictionary(e => e.t, e => ids[e.i]), ["h e", "l o", "lo w</w>"]);
    }

    static void WriteVocabJson(string path, Dictionary<string, int> vocab) =>
        File.WriteAllText(path, JsonSerializer.Serialize(vocab), new UTF8Encoding(false));

    static void CheckTiny(ClipTokenizer tok, Dictionary<string, int> vocab)
    {
        Assert.Equal(vocab["<|startoftext|>"], tok.StartOfText);
        Assert.Equal(vocab["<|endoftext|>"], tok.EndOfText);
        Assert.Equal(vocab.Count, tok.VocabSize);
        // "low": l o w</w> → lo w</w> → low</w>.  "hello": h e l l o</w> → he l l o</w> ("l o" needs a plain o).
        Assert.Equal(new[] { vocab["low</w>"] }, tok.Encode("Low"));
        Assert.Equal(new[] { vocab["he"], vocab["l"], vocab["l"], vocab["o</w>"] }, tok.Encode("hello"));
        Assert.Equal("low hello ", tok.Decode(tok.Encode("low hello")));
    }

    [Fact]
    public void LoadsVocabJsonWithMergesTxt()
    {
        using var dir = new TempDir();
        var (vocab, merges) = TinyVocab();
        WriteVocabJson(dir.File("vocab.json"), vocab);
        File.WriteAllText(dir.File("merges.txt"), "#version: 0.2\n" + string.Join("\n", merges) + "\n");
        CheckTiny(ClipTokenizer.Load(dir.File("vocab.json")), vocab);
        CheckTiny(ClipTokenizer.Load(dir.Path), vocab);
        CheckTiny(new ClipTokenizer(BpeVocabulary.LoadHuggingFace(dir.File("vocab.json"), dir.File("merges.txt"))), vocab);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LoadsTokenizerJson(bool mergesAsArrays)
    {
        using var dir = new TempDir();
        var (vocab, merges) = TinyVocab();
        var special = new[] { "<|startoftext|>", "<|endoftext|>" };
        var model = new Dictionary<string, object>
        {
            ["type"] = "BPE",
            ["end_of_word_suffix"] = "</w>",
            ["vocab"] = vocab.Where(e => !special.Contains(e.Key)).ToDictionary(e => e.Key, e => e.Value),
            ["merges"] = mergesAsArrays ? merges.Select(m => (object)m.Split(' ')).ToArray() : merges,
        };
        var json = new Dictionary<string, object>
        {
            ["version"] = "1.0",
            ["added_tokens"] = special.Select(s => new Dictionary<string, object> { ["id"] = vocab[s], ["content"] = s, ["special"] = true }).ToArray(),
            ["model"] = model,
        };
        File.WriteAllText(dir.File("tokenizer.json"), JsonSerializer.Serialize(json));
        CheckTiny(ClipTokenizer.Load(dir.File("tokenizer.json")), vocab);
        CheckTiny(ClipTokenizer.Load(dir.Path), vocab);
    }

    [Fact]
    public void HuggingFaceExportOfOpenAiVocabGivesIdenticalIds()
    {
        var openAi = SharedTokenizer.Instance;
        using var dir = new TempDir();
        openAi.Vocabulary.SaveHuggingFace(dir.Path);
        var hf = ClipTokenizer.Load(dir.Path);
        Assert.Equal(openAi.Vocabulary.Tokens, hf.Vocabulary.Tokens);
        Assert.Equal(openAi.Vocabulary.Merges, hf.Vocabulary.Merges);
        foreach (var c in Fixtures.Array("tokenizer.cases"))
        {
            var text = JsonStrings.Get(c.GetProperty("text"));
            Assert.Equal(openAi.Encode(text), hf.Encode(text));
        }
    }

    [Fact]
    public void OpenAiFormatRoundTripsThroughSave()
    {
        var openAi = SharedTokenizer.Instance;
        using var dir = new TempDir();
        openAi.Vocabulary.SaveOpenAi(dir.File("copy.txt.gz"));
        var copy = ClipTokenizer.Load(dir.File("copy.txt.gz"));
        Assert.Equal(openAi.Vocabulary.Tokens, copy.Vocabulary.Tokens);
        Assert.Equal(openAi.Encode("a photo of a cat, 猫の写真 😀"), copy.Encode("a photo of a cat, 猫の写真 😀"));
    }

    [Fact]
    public void MissingFileNamesThePath()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "bpe.txt.gz");
        var e = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void CorruptGzipNamesThePath()
    {
        using var dir = new TempDir();
        var path = dir.File("broken.txt.gz");
        File.WriteAllBytes(path, [0x1F, 0x8B, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        var e = Assert.Throws<InvalidDataException>(() => ClipTokenizer.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void TruncatedGzipOfTheRealVocabNamesThePath()
    {
        using var dir = new TempDir();
        var path = dir.File("cut.txt.gz");
        var bytes = File.ReadAllBytes(Fixtures.VocabPath);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 3)]);
        var e = Assert.Throws<InvalidDataException>(() => ClipTokenizer.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void MalformedMergeLineNamesFileAndLine()
    {
        using var dir = new TempDir();
        var path = dir.File("merges.txt.gz");
        using (var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest))
            gz.Write(Encoding.UTF8.GetBytes("#version: 0.2\nh e\nl o x\n"));
        var e = Assert.Throws<InvalidDataException>(() => ClipTokenizer.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("line 3", e.Message);
    }

    [Fact]
    public void BadVocabJsonNamesThePath()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("vocab.json"), "{\"a\": 0,");
        File.WriteAllText(dir.File("merges.txt"), "#version: 0.2\n");
        var e = Assert.Throws<InvalidDataException>(() => ClipTokenizer.Load(dir.File("vocab.json")));
        Assert.Contains(dir.File("vocab.json"), e.Message);
    }

    [Fact]
    public void VocabJsonWithoutByteSymbolsIsRejected()
    {
        using var dir = new TempDir();
        var (vocab, merges) = TinyVocab();
        var missing = ByteLevel.CharOfByte['q'].ToString();
        int id = vocab[missing];
        vocab.Remove(missing);
        vocab["q-renamed"] = id;
        WriteVocabJson(dir.File("vocab.json"), vocab);
        File.WriteAllText(dir.File("merges.txt"), "#version: 0.2\n" + string.Join("\n", merges));
        var e = Assert.Throws<InvalidDataException>(() => ClipTokenizer.Load(dir.File("vocab.json")));
        Assert.Contains(dir.File("vocab.json"), e.Message);
        Assert.Contains("0x71", e.Message);
    }

    [Fact]
    public void VocabJsonNeedsMergesBesideIt()
    {
        using var dir = new TempDir();
        WriteVocabJson(dir.File("vocab.json"), TinyVocab().Vocab);
        var e = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.Load(dir.File("vocab.json")));
        Assert.Contains("merges.txt", e.Message);
    }
}
