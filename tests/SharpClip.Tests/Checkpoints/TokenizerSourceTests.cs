using SharpClip.Checkpoints;
using SharpClip.Tests.Infrastructure;
using static SharpClip.Tests.Checkpoints.CheckpointTestData;

namespace SharpClip.Tests.Checkpoints;

/// <summary>The one way from a checkpoint to its tokenizer (inference, fine-tuning, evaluation and search use it).</summary>
public class TokenizerSourceTests
{
    [Fact]
    public void AHuggingFaceFolderGivesItsOwnVocabularyAndAGivenOneOverridesIt()
    {
        using (var hf = CheckpointLoader.Read(PathOf("hf_tiny")))
        {
            var source = hf.TokenizerSource;
            Assert.Equal((Path.Combine(PathOf("hf_tiny"), "merges.txt"), 11), (source.MergesPath, source.ModelVocabSize));
            Assert.Equal(source, source.Resolve());
        }

        // A vocabulary given when reading replaces the folder's; OpenAI's 49408 tokens do not fit 11 embeddings.
        using var overridden = CheckpointLoader.Read(PathOf("hf_tiny"), new CheckpointReadOptions { VocabPath = Fixtures.VocabPath });
        Assert.Equal((Fixtures.VocabPath, (string?)null), (overridden.TokenizerSource.VocabPath, overridden.TokenizerSource.MergesPath));
        var e = Assert.Throws<InvalidDataException>(() => overridden.TokenizerSource.Load());
        Assert.Contains("embeds only 11", e.Message);
    }

    [Fact]
    public void ACheckpointWithoutAVocabularyAndNoDefaultAsksForOne()
    {
        var weights = Fixtures.PathOf(Fixtures.Entry("models", (string)Fixtures.Ids("models").First()[0]).GetProperty("weights").GetString()!);
        var saved = Environment.GetEnvironmentVariable("CLIP_VOCAB");
        Environment.SetEnvironmentVariable("CLIP_VOCAB", null); // (only ever cleared, as ClipPipelineTests does: tests run in parallel)
        try
        {
            using var bare = CheckpointLoader.Read(weights);
            Assert.Null(bare.TokenizerSource.VocabPath);
            var e = Assert.Throws<FileNotFoundException>(() => bare.TokenizerSource.Load());
            Assert.Contains(weights, e.Message);
            Assert.Contains("--vocab", e.Message);
        }
        finally { Environment.SetEnvironmentVariable("CLIP_VOCAB", saved); }
    }
}
