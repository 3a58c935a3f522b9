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

    /// <summary>
    /// Fingerprints are stored in search indexes: a model must keep its fingerprint across releases, or every index
    /// built with it would refuse the model. Pinned for the fixture weights and for a folder declaring non-default
    /// preprocessing (values computed before the preprocessing types were merged).
    /// </summary>
    [Theory]
    [InlineData("vit_tiny_p8", false, "dafea58e449e8eb7c545d80bc59e9b04115d5789a89cbab85c78d650fc9dcbb0")]
    [InlineData("rn_tiny_1111", false, "b2f7997c6ab4fbdaeaf6fe5162bbde4bb9c9e17a03b8e59c65d982c2727f646c")]
    [InlineData("vit_tiny_p8", true, "ad7a92d7c3ef15a15f7cf5be21d7280806d20585064b38b9d017426bf40a3c33")]
    public void FingerprintsOfEarlierReleasesAreKept(string id, bool declaredPreprocessing, string expected)
    {
        if (!Fixtures.Ids("models").Any(r => (string)r[0] == id)) return; // another fixture set
        using var tmp = new TempDir();
        string model = Weights(id);
        if (declaredPreprocessing)
        {
            model = Path.Combine(tmp.Path, "model");
            using var source = SharpClip.Checkpoints.CheckpointLoader.Read(Weights(id));
            int n = source.ResolvedConfig.ImageResolution;
            var pre = SharpClip.Vision.PreprocessingInfo.ForResolution(n) with
            {
                ResizeShortestEdge = n + 8, Resample = SharpClip.Vision.ResampleFilter.Bilinear, Mean = [0.5f, 0.4f, 0.3f], Std = [0.2f, 0.25f, 0.3f],
            };
            SharpClip.Checkpoints.ClipModelFolder.Write(model, source.ResolvedConfig, source.StateDict, null, pre);
        }
        using var pipeline = ClipPipeline.Load(model);
        Assert.Equal(expected, pipeline.Fingerprint);
    }
}
