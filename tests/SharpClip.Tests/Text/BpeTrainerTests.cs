using SharpClip.Text;

namespace SharpClip.Tests.Text;

public class BpeTrainerTests
{
    /// <summary>Deterministic synthetic captions with a skewed word distribution and a little non-ASCII.</summary>
    static List<string> Corpus(int seed, int count)
    {
        string[] subjects = ["cat", "dog", "red car", "tall building", "bowl of ramen", "lighthouse", "café", "Straße", "猫", "bicycle"];
        string[] verbs = ["sitting on", "running along", "parked near", "photographed beside", "painted next to"];
        string[] places = ["the beach", "a busy street", "the window", "a snowy mountain", "the harbour at night"];
        var rnd = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
            $"A photo of a {subjects[rnd.Next(subjects.Length)]} {verbs[rnd.Next(verbs.Length)]} {places[rnd.Next(places.Length)]}, {rnd.Next(1, 30)} years ago.").ToList();
    }

    static readonly BpeTrainerOptions Small = new() { VocabSize = 512 + 2 + 100 };

    [Fact]
    public void TrainedVocabularySavesReloadsAndRoundTrips()
    {
        var corpus = Corpus(1, 1500);
        var vocab = BpeTrainer.Train(corpus, Small);
        Assert.Equal(100, vocab.Merges.Count);
        Assert.Equal(614, vocab.Count);

        using var dir = new TempDir();
        vocab.SaveOpenAi(dir.File("trained.txt.gz"));
        var tok = ClipTokenizer.Load(dir.File("trained.txt.gz"));
        Assert.Equal(vocab.Tokens, tok.Vocabulary.Tokens);
        Assert.Equal(vocab.Count - 2, tok.StartOfText);
        Assert.Equal(vocab.Count - 1, tok.EndOfText);

        vocab.SaveHuggingFace(dir.File("hf"));
        var hf = ClipTokenizer.Load(dir.File("hf"));
        foreach (var caption in corpus.Take(200).Append("an unseen caption: Über 😀 ΣΟΦΟΣ"))
        {
            var ids = tok.Encode(caption);
            Assert.Equal(ids, hf.Encode(caption));
            // Decoding restores every pre-token, each followed by a space; without spaces it is the cleaned text.
            Assert.Equal(ClipTokenizer.Clean(caption).Replace(" ", ""), tok.Decode(ids).Replace(" ", ""));
        }
        // Frequent words became single tokens.
        Assert.Single(tok.Encode("photo"));
        Assert.Single(tok.Encode("the"));
    }

    [Fact]
    public void TrainingIsDeterministicAndIndependentOfCorpusOrder()
    {
        var corpus = Corpus(2, 600);
        var a = BpeTrainer.Train(corpus, Small);
        var b = BpeTrainer.Train(corpus, Small);
        var shuffled = corpus.ToArray();
        new Random(9).Shuffle(shuffled);
        var c = BpeTrainer.Train(shuffled, Small);
        Assert.Equal(a.Merges, b.Merges);
        Assert.Equal(a.Merges, c.Merges);
    }

    [Fact]
    public void TiesGoToTheOrdinallySmallerPair()
    {
        // "ab" and "cd" each once: both pairs have count 1; ("a","b</w>") sorts before ("c","d</w>").
        var vocab = BpeTrainer.Train(["ab cd"], new BpeTrainerOptions { VocabSize = 512 + 2 + 2, MinPairFrequency = 1 });
        Assert.Equal(new[] { ("a", "b</w>"), ("c", "d</w>") }, vocab.Merges);
        // "b c" x3 beats "a b" x2 whatever the order.
        var v2 = BpeTrainer.Train(["ab ab", "bc bc bc"], new BpeTrainerOptions { VocabSize = 512 + 2 + 1, MinPairFrequency = 1 });
        Assert.Equal(new[] { ("b", "c</w>") }, v2.Merges);
    }

    [Fact]
    public void StopsAtMinimumPairFrequency()
    {
        var vocab = BpeTrainer.Train(["xy", "xy", "zw"], new BpeTrainerOptions { VocabSize = 10_000, MinPairFrequency = 2 });
        Assert.Equal(new[] { ("x", "y</w>") }, vocab.Merges);
    }
}
