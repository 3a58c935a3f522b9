using SharpClip.Text;

namespace SharpClip.Tests.Text;

/// <summary>API behaviour around the reference algorithm: errors, truncation rules, thread safety.</summary>
public class TokenizerBehaviourTests
{
    static ClipTokenizer Tok => SharedTokenizer.Instance;

    [Fact]
    public void TooLongTextNamesItsIndexAndBeginning()
    {
        var texts = new[] { "a cat", "a dog", string.Join(" ", Enumerable.Repeat("elephant", 100)) };
        var e = Assert.Throws<TextTooLongException>(() => Tok.Tokenize(texts));
        Assert.Equal(2, e.Index);
        Assert.Equal(77, e.ContextLength);
        Assert.Equal(Tok.Encode(texts[2]).Length + 2, e.TokenCount);
        Assert.Contains("text 2", e.Message);
        Assert.Contains("elephant elephant", e.Message);
    }

    [Fact]
    public void TruncationKeepsStartAndPutsEndTokenLast()
    {
        var text = string.Join(" ", Enumerable.Range(0, 40).Select(i => "word" + i));
        var ids = Tok.Encode(text);
        Assert.True(ids.Length > 10);
        var row = Tok.TokenizeOne(text, contextLength: 10, truncate: true);
        Assert.Equal(new[] { Tok.StartOfText }.Concat(ids.Take(8)).Append(Tok.EndOfText), row);
    }

    [Fact]
    public void ShortTextIsZeroPadded()
    {
        var ids = Tok.Encode("a photo of a cat");
        var row = Tok.TokenizeOne("a photo of a cat", contextLength: 16);
        Assert.Equal(new[] { Tok.StartOfText }.Concat(ids).Append(Tok.EndOfText).Concat(Enumerable.Repeat(0, 16 - ids.Length - 2)), row);
    }

    [Fact]
    public void EmptyBatchGivesAnEmptyTensor()
    {
        using var t = Tok.Tokenize(Array.Empty<string>());
        Assert.Equal(new long[] { 0, 77 }, t.shape);
        Assert.Empty(Tok.TokenizeToArrays(Array.Empty<string>()));
    }

    [Fact]
    public void ContextLengthBelowTwoIsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Tok.TokenizeOne("x", contextLength: 1));

    [Fact]
    public void DecodeRejectsIdsOutsideTheVocabulary()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Tok.Decode([1, Tok.VocabSize]));
        Assert.Contains(Tok.VocabSize.ToString(), e.Message);
    }

    [Fact]
    public void ConcurrentEncodingAgreesWithSequential()
    {
        var rnd = new Random(3);
        string[] words = ["photo", "Café", "ΣΟΦΟΣ", "猫", "😀", "don't", "&amp;", "Ã©tÃ©", "１２３", "naïve", "x²"];
        var texts = Enumerable.Range(0, 400).Select(_ => string.Join(" ", Enumerable.Range(0, rnd.Next(1, 12)).Select(_ => words[rnd.Next(words.Length)]))).ToArray();
        var fresh = new ClipTokenizer(Tok.Vocabulary); // empty cache, so threads race to fill it
        var sequential = texts.Select(Tok.Encode).ToArray();
        var parallel = new int[texts.Length][];
        Parallel.For(0, texts.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => parallel[i] = fresh.Encode(texts[i]));
        Assert.Equal(sequential, parallel);
        Assert.Equal(sequential, fresh.EncodeBatch(texts));
    }

    [Fact]
    public void SpecialTokenTextsMapToTheirIdsInAnyCase()
    {
        Assert.Equal(new[] { Tok.StartOfText }, Tok.Encode("<|startoftext|>"));
        Assert.Equal(new[] { Tok.EndOfText }, Tok.Encode("<|EndOfText|>"));
    }
}
