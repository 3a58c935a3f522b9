using System.Text.Json;
using SharpClip.Checkpoints;
using SharpClip.Tests.Checkpoints;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Search;
using SharpClip.Text;
using Xunit;

namespace SharpClip.Tests.Cli;

/// <summary>
/// <c>convert --format huggingface</c> of a checkpoint whose vocabulary is OpenAI's gzip file writes transformers'
/// tokenizer files too, so the folder loads (in SharpClip and in CLIPProcessor) with no separate vocabulary.
/// </summary>
public class ConvertToHuggingFaceTests
{
    public static IEnumerable<object[]> VitModels =>
        Fixtures.Ids("models").Where(r => Fixtures.Entry("models", (string)r[0]).GetProperty("architecture").GetString() == "vit");

    [Theory]
    [MemberData(nameof(VitModels))]
    public void TheFolderCarriesItsTokenizerAndTokenizesAsTheOpenAiVocabularyDoes(string id)
    {
        var model = Fixtures.Entry("models", id);
        using var tmp = new TempDir();
        var dir = Path.Combine(tmp.Path, "hf");
        var (exit, _, err) = CliProcess.Run("convert", Fixtures.PathOf(model.GetProperty("weights").GetString()!), dir,
            "--format", "huggingface", "--vocab", Fixtures.VocabPath);
        Assert.True(exit == 0, err);
        foreach (var file in new[] { "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json" })
            Assert.True(File.Exists(Path.Combine(dir, file)), $"{file} missing");
        Assert.DoesNotContain("no vocabulary bundled", err);

        using (var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "tokenizer_config.json"))))
        {
            var c = doc.RootElement;
            Assert.Equal("CLIPTokenizer", c.GetProperty("tokenizer_class").GetString());
            Assert.Equal(model.GetProperty("config").GetProperty("context_length").GetInt32(), c.GetProperty("model_max_length").GetInt32());
            Assert.Equal("<|endoftext|>", c.GetProperty("pad_token").GetString());
        }

        // Loaded back with no --vocab: the tokenizer is the folder's, and it gives the OpenAI vocabulary's ids.
        using var back = CheckpointLoader.Read(dir);
        Assert.Equal(Path.Combine(dir, "merges.txt"), back.MergesPath);
        var fromFolder = back.TokenizerSource.Load();
        var original = new ClipTokenizer(BpeVocabulary.Load(Fixtures.VocabPath));
        string[] texts = [.. Fixtures.Strings(model.GetProperty("eval"), "captions"), "Ünïcödé   whitespace\tand CAPS!", "a photo of a 🐈"];
        Assert.Equal(original.TokenizeToArrays(texts), fromFolder.TokenizeToArrays(texts));
    }
}
