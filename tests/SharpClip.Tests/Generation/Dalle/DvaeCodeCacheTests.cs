using System.Text.Json;
using SharpClip.Data;
using SharpClip.Data.Loading;
using SharpClip.Files;
using SharpClip.Generation.Dalle;
using SharpClip.Generation.Dalle.Dvae;
using SharpClip.Generation.Dalle.Training;
using SharpClip.Generation.Training;
using TorchSharp;

namespace SharpClip.Tests.Generation.Dalle;

/// <summary>The transformer stage's dVAE codes, encoded once: equal to encoding each training batch, read back from the
/// run folder, and rebuilt (never used) when made with another dVAE or image size.</summary>
public class DvaeCodeCacheTests
{
    const string Data = "synthetic:shapes:train";
    static readonly DataSourceOptions Options = JsonSerializer.Deserialize<DataSourceOptions>(
        """{ "synthetic": { "image_size": 16, "supersampling": 1, "train_count": 40, "validation_count": 8 } }""", GenerativeConfigJson.Options)!;

    static DiscreteVae RandomDvae(int seed)
    {
        torch.manual_seed(seed);
        return new DiscreteVae(new Encoder(new DvaeEncoderConfig(3, 16, 1, 3, 32)), new Decoder(new DvaeDecoderConfig(3, 16, 16, 1, 3, 32)));
    }

    static DvaeCodeCache Open(string folder, DiscreteVae dvae, List<string> lines, int imageSize = 16) =>
        DvaeCodeCache.Open(folder, dvae, Data, Options, imageSize, batchSize: 7, workers: 1, lines.Add);

    [Fact]
    public void CodesEqualThoseOfEncodingEachTrainingBatch()
    {
        using var dir = new TempDir();
        using var dvae = RandomDvae(1);
        var lines = new List<string>();
        var cache = Open(dir.Path, dvae, lines);
        Assert.Equal(40, cache.Count);
        Assert.Equal(16, cache.TokensPerImage);                                       // 16 px / 4 (3 groups) = a 4×4 grid
        Assert.Contains(lines, l => l.StartsWith("encoding 40 images", StringComparison.Ordinal));

        // The training loader's batches (shuffled, two epochs), each encoded as the trainer used to: the same codes.
        var loader = new ClipDataLoader(ImageTextSources.Open(Data, Options), GenerativeRun.UnitPixelPipeline(16), c => [.. c.Select(_ => new long[1])],
            new ClipLoaderOptions { BatchSize = 8, ImageSize = 16, Seed = 3, Workers = 1 });
        var distinct = new HashSet<long>();
        foreach (int epoch in new[] { 0, 1 })
            foreach (var batch in loader.ReadEpoch(epoch))
            {
                using var pixels = torch.tensor(batch.Pixels, [batch.Count, 3, 16, 16]);
                using var encoded = dvae.Encode(pixels);
                var expected = encoded.Tokens.reshape(batch.Count, -1).data<long>().ToArray();
                using var cached = cache.Lookup(batch.Keys);
                Assert.Equal([batch.Count, 16L], cached.shape);
                Assert.Equal(expected, cached.data<long>().ToArray());
                distinct.UnionWith(expected);
            }
        Assert.True(distinct.Count > 1, "the codes must differ between patches for the comparison to mean anything");

        // Opened again (a resumed run): read from the file, not encoded again, the same codes.
        lines.Clear();
        var again = Open(dir.Path, dvae, lines);
        Assert.DoesNotContain(lines, l => l.Contains("encoding", StringComparison.Ordinal));
        var keys = ImageTextSources.Open(Data, Options).Shards.SelectMany(s => s.Read(new DataStats())).Select(s => s.Key).ToList();
        using (var a = cache.Lookup(keys))
        using (var b = again.Lookup(keys))
            Assert.Equal(a.data<long>().ToArray(), b.data<long>().ToArray());
        Assert.Throws<InvalidDataException>(() => again.Lookup(["no such sample"]));
    }

    [Fact]
    public void ACacheOfAnotherDvaeOrImageSizeIsRebuiltNotUsed()
    {
        using var dir = new TempDir();
        using var first = RandomDvae(1);
        using var second = RandomDvae(2);
        var lines = new List<string>();
        var keys = ImageTextSources.Open(Data, Options).Shards.SelectMany(s => s.Read(new DataStats())).Select(s => s.Key).ToList();
        var stale = Open(dir.Path, first, lines);
        string staleFingerprint = Fingerprint(stale.Path);

        lines.Clear();
        var rebuilt = Open(dir.Path, second, lines);
        Assert.Contains(lines, l => l.Contains("made with another dVAE", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("encoding 40 images", StringComparison.Ordinal));
        Assert.NotEqual(staleFingerprint, Fingerprint(rebuilt.Path));
        var fresh = DvaeCodeCache.Open(dir.File("fresh"), second, Data, Options, 16, 7, 1);   // the second dVAE's own codes
        using (var got = rebuilt.Lookup(keys))
        using (var want = fresh.Lookup(keys))
        using (var old = stale.Lookup(keys))
        {
            Assert.Equal(want.data<long>().ToArray(), got.data<long>().ToArray());
            Assert.NotEqual(old.data<long>().ToArray(), got.data<long>().ToArray());
        }

        lines.Clear();
        var larger = Open(dir.Path, second, lines, imageSize: 32);
        Assert.Contains(lines, l => l.Contains("made with another dVAE", StringComparison.Ordinal));
        Assert.Equal(64, larger.TokensPerImage);

        File.WriteAllText(larger.Path, "not a cache");
        lines.Clear();
        Assert.Equal(64, Open(dir.Path, second, lines, imageSize: 32).TokensPerImage);
        Assert.Contains(lines, l => l.Contains("unreadable", StringComparison.Ordinal));
    }

    static string Fingerprint(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        return file.Metadata["fingerprint"];
    }
}
