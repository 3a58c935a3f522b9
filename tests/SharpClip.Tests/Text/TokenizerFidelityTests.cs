using System.Security.Cryptography;
using SharpClip.Tests.Infrastructure;
using SharpClip.Text;
using TorchSharp;

namespace SharpClip.Tests.Text;

/// <summary>Every tokenizer case of the fixture manifest, against the reference's recorded outputs.</summary>
[Trait("Category", "Fidelity")]
public class TokenizerFidelityTests
{
    public static IEnumerable<object[]> Cases => Fixtures.Ids("tokenizer.cases");

    [Fact]
    public void VocabularyIsTheOneTheManifestNames()
    {
        var v = Fixtures.Manifest.GetProperty("vocab");
        var hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Fixtures.VocabPath))).ToLowerInvariant();
        Assert.Equal(v.GetProperty("sha256").GetString(), hash);
        var tok = SharedTokenizer.Instance;
        Assert.Equal(v.GetProperty("start_of_text").GetInt32(), tok.StartOfText);
        Assert.Equal(v.GetProperty("end_of_text").GetInt32(), tok.EndOfText);
        Assert.Equal(v.GetProperty("vocab_size").GetInt32(), tok.VocabSize);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CleanupEncodeAndDecodeMatch(string id)
    {
        var c = Fixtures.Entry("tokenizer.cases", id);
        var text = JsonStrings.Get(c.GetProperty("text"));
        var tok = SharedTokenizer.Instance;
        Assert.Equal(JsonStrings.Get(c.GetProperty("cleaned")), ClipTokenizer.Clean(text));
        var ids = tok.Encode(text);
        Assert.Equal(JsonStrings.Ints(c.GetProperty("bpe_ids")), ids);
        Assert.Equal(JsonStrings.Get(c.GetProperty("decoded")), tok.Decode(ids));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TokensPaddingErrorsAndTruncationMatch(string id)
    {
        var c = Fixtures.Entry("tokenizer.cases", id);
        var text = JsonStrings.Get(c.GetProperty("text"));
        int context = c.GetProperty("context_length").GetInt32();
        var error = c.GetProperty("error");
        var expected = JsonStrings.Ints(c.GetProperty("tokens"));
        var expectedTruncated = JsonStrings.Ints(c.GetProperty("tokens_truncate"))!;
        var tok = SharedTokenizer.Instance;

        if (error.ValueKind == System.Text.Json.JsonValueKind.Null)
        {
            Assert.Equal(expected, tok.TokenizeOne(text, context));
            using var t = tok.Tokenize(new[] { text }, context);
            Assert.Equal(torch.ScalarType.Int64, t.dtype);
            Assert.Equal(new long[] { 1, context }, t.shape);
            Assert.Equal(expected!.Select(v => (long)v), t.data<long>().ToArray());
        }
        else
        {
            Assert.Equal("too_long", error.GetString());
            Assert.Null(expected);
            var e = Assert.Throws<TextTooLongException>(() => tok.Tokenize(new[] { text }, context));
            Assert.Equal(0, e.Index);
            Assert.Equal(context, e.ContextLength);
        }
        Assert.Equal(expectedTruncated, tok.TokenizeOne(text, context, truncate: true));
        Assert.Equal(expectedTruncated.Select(v => (long)v), tok.TokenizeToArrays(new[] { text }, context, truncate: true)[0]);
    }

    [Fact]
    public void WholeManifestAsParallelBatchesMatches()
    {
        // Grouped by context length, as clip.tokenize would be called; big enough to take the parallel path.
        var tok = SharedTokenizer.Instance;
        foreach (var group in Fixtures.Array("tokenizer.cases").GroupBy(c => c.GetProperty("context_length").GetInt32()))
        {
            var cases = group.ToList();
            var texts = cases.Select(c => JsonStrings.Get(c.GetProperty("text"))).ToList();
            // Repeat the batch so it is large whatever the manifest holds.
            var batch = Enumerable.Repeat(texts, 4).SelectMany(t => t).ToList();
            using var scope = torch.NewDisposeScope();
            var tensor = tok.Tokenize(batch, group.Key, truncate: true);
            Assert.Equal(new long[] { batch.Count, group.Key }, tensor.shape);
            var flat = tensor.data<long>().ToArray();
            for (int i = 0; i < batch.Count; i++)
            {
                var want = JsonStrings.Ints(cases[i % cases.Count].GetProperty("tokens_truncate"))!.Select(v => (long)v);
                Assert.Equal(want, flat.Skip(i * group.Key).Take(group.Key));
            }
        }
    }
}
