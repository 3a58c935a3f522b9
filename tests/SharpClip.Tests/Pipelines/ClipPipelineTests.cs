using SharpClip.Pipelines;
using SharpClip.Tests.Infrastructure;
using TorchSharp;
using TorchSharp.Utils;

namespace SharpClip.Tests.Pipelines;

public class ClipPipelineTests
{
    static string Weights(string id) => Fixtures.PathOf(Fixtures.Entry("models", id).GetProperty("weights").GetString()!);

    [Fact]
    public void FingerprintIsStablePerModelDistinctAcrossModelsAndLeavesNoTensorsBehind()
    {
        var ids = Fixtures.Ids("models").Select(r => (string)r[0]).ToList();
        var prints = new List<string>();
        foreach (var id in ids)
        {
            using var first = ClipPipeline.Load(Weights(id));
            long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            var print = first.Fingerprint;
            Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            using var second = ClipPipeline.Load(Weights(id));
            Assert.Equal(print, second.Fingerprint);
            prints.Add(print);
        }
        Assert.Equal(prints.Count, prints.Distinct().Count());
    }

    [Fact]
    public void TextsWithoutAVocabularyAskForOne()
    {
        var id = (string)Fixtures.Ids("models").First()[0];
        var saved = Environment.GetEnvironmentVariable("CLIP_VOCAB");
        Environment.SetEnvironmentVariable("CLIP_VOCAB", null);
        try
        {
            using var pipeline = ClipPipeline.Load(Weights(id)); // a bare weight file carries no vocabulary
            var e = Assert.Throws<FileNotFoundException>(() => pipeline.EmbedText("a cat"));
            Assert.Contains("--vocab", e.Message);
        }
        finally { Environment.SetEnvironmentVariable("CLIP_VOCAB", saved); }
    }
}
