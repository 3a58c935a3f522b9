using SharpClip.Search;

namespace SharpClip.Tests.Search;

public class IndexerTests : IDisposable
{
    readonly TempDir dir = new();
    readonly VectorFileEncoder encoder = new();
    static readonly DateTime T0 = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    string Photos => dir["photos"];
    string IndexFile => dir["index.db"];

    IndexSummary Run(IndexerOptions? options = null, IImageTextEncoder? enc = null, string model = "vectors")
    {
        using var index = ImageIndex.Open(IndexFile, create: true);
        return Indexer.Run(index, enc ?? encoder, model, [Photos], options);
    }

    void Seed()
    {
        dir.Write("photos/a.png", "1 0 0 0", T0);
        dir.Write("photos/b.jpg", "0 2 0 0", T0);
        dir.Write("photos/sub/c.jpeg", "0 0 3 4", T0);
        dir.Write("photos/sub/deeper/d.bmp", "1 1 1 1", T0);
        dir.Write("photos/bad.png", "fail: truncated file", T0);
        dir.Write("photos/notes.md", "1 0 0 0", T0);            // not an image extension
        dir.Write("photos/a.txt", "a red square", T0);          // caption sidecar of a.png
    }

    [Fact]
    public void FirstRunEmbedsImagesRecordsFailuresCaptionsAndNormalisedVectors()
    {
        Seed();
        var s = Run();
        Assert.Equal((5, 4, 1), (s.Scanned, s.Embedded, s.Failed));
        using var index = ImageIndex.Open(IndexFile);
        var stats = index.Stats();
        Assert.Equal((4L, 1L, "vectors", 4), (stats.Images, stats.Failures, stats.Model, stats.Dimension));
        var failure = Assert.Single(index.Failures());
        Assert.Equal((dir["photos/bad.png"], "truncated file"), (failure.Path, failure.Reason));

        var seen = new Dictionary<long, float[]>();
        index.ReadEmbeddings(0, (id, v) => seen[id] = v.ToArray());
        Assert.Equal(4, seen.Count);
        foreach (var (id, v) in seen)
        {
            var record = index.Get(id)!;
            var raw = VectorFileEncoder.Parse(File.ReadAllText(record.Path));
            double norm = Math.Sqrt(raw.Sum(x => (double)x * x));
            for (int i = 0; i < 4; i++) Assert.Equal(raw[i] / norm, v[i], 6);
            Assert.Equal((7, 5), (record.Width, record.Height));
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(record.Path))), record.Hash);
            Assert.Equal(record.Path.EndsWith("a.png") ? "a red square" : null, record.Caption);
        }
    }

    [Fact]
    public void SecondRunEmbedsNothingAndSkipsKnownFailures()
    {
        Seed();
        Run();
        int before = encoder.Embedded.Count;
        var s = Run();
        Assert.Equal((0, 4, 1, 0), (s.Embedded, s.Unchanged, s.KnownFailures, s.Failed));
        Assert.Equal(before, encoder.Embedded.Count);
    }

    [Fact]
    public void ChangedTouchedMovedDeletedAndCaptionEditsAreEachHandledTheCheapWay()
    {
        Seed();
        Run();
        dir.Write("photos/b.jpg", "0 0 0 5", T0.AddHours(1));                         // content changed
        File.SetLastWriteTimeUtc(dir["photos/a.png"], T0.AddHours(2));                // touched, same bytes
        File.Move(dir["photos/sub/c.jpeg"], dir["photos/moved-c.jpeg"]);              // moved: same bytes, new path
        File.Delete(dir["photos/sub/deeper/d.bmp"]);                                  // deleted
        dir.Write("photos/a.txt", "a crimson square", T0.AddHours(3));                // caption edited
        encoder.Embedded.Clear();

        var s = Run();
        Assert.Equal([dir["photos/b.jpg"]], encoder.Embedded.ToArray());
        Assert.Equal((1, 1, 1, 2, 1), (s.Embedded, s.Touched, s.Reused, s.Removed, s.CaptionsUpdated)); // removed: c's old path and d

        using var index = ImageIndex.Open(IndexFile);
        var rows = new Dictionary<string, float[]>();
        index.ReadEmbeddings(0, (id, v) => rows[index.Get(id)!.Path] = v.ToArray());
        Assert.Equal(new[] { "a.png", "b.jpg", "moved-c.jpeg" }, rows.Keys.Select(Path.GetFileName).Order().ToArray());
        Assert.Equal([0f, 0f, 0f, 1f], rows[dir["photos/b.jpg"]]);
        Assert.Equal([0f, 0f, 0.6f, 0.8f], rows[dir["photos/moved-c.jpeg"]]);
        long aId = 0;
        index.ReadEmbeddings(0, (id, _) => { if (index.Get(id)!.Path.EndsWith("a.png")) aId = id; });
        Assert.Equal("a crimson square", index.Get(aId)!.Caption);
    }

    [Fact]
    public void AnotherModelIsRefusedAndRebuildReEmbedsEverything()
    {
        Seed();
        Run();
        var other = new VectorFileEncoder(4, "another-model");
        var e = Assert.Throws<ModelMismatchException>(() => Run(enc: other, model: "other"));
        Assert.Contains("vectors", e.Message);
        Assert.Contains("other", e.Message);

        var s = Run(new IndexerOptions { Rebuild = true }, other, "other");
        Assert.Equal(4, s.Embedded);
        Assert.Equal(4, other.Embedded.Count);
        using var index = ImageIndex.Open(IndexFile);
        Assert.Equal(("other", "another-model"), (index.Metadata!.Model, index.Metadata.Fingerprint));
        Assert.Equal(1, index.Stats().Failures); // the unreadable file was tried again after the rebuild
    }

    [Fact]
    public void HalfPrecisionStoresFloat16AndRefusesAPrecisionSwitch()
    {
        dir.Write("photos/x.png", "0.1 0.2 0.3 0.4", T0);
        Run(new IndexerOptions { Precision = EmbeddingPrecision.Float16 });
        using (var index = ImageIndex.Open(IndexFile))
        {
            Assert.Equal(EmbeddingPrecision.Float16, index.Metadata!.Precision);
            float[] got = [];
            index.ReadEmbeddings(0, (_, v) => got = v.ToArray());
            var expected = Vectors.Normalize([0.1f, 0.2f, 0.3f, 0.4f]).Select(x => (float)(Half)x).ToArray();
            Assert.Equal(expected, got);
        }
        Assert.Throws<InvalidOperationException>(() => Run(new IndexerOptions { Precision = EmbeddingPrecision.Float32 }));
        Assert.Equal(0, Run().Embedded); // no precision given: keep the index's
    }

    [Fact]
    public void CancelledRunKeepsCommittedBatchesAndTheNextRunFinishesTheRest()
    {
        for (int i = 0; i < 10; i++) dir.Write($"photos/{i:D2}.png", $"{i + 1} 1 0 0", T0);
        using var cts = new CancellationTokenSource();
        int calls = 0;
        encoder.BeforeEach = _ => { if (++calls == 5) cts.Cancel(); };   // during the 2nd batch of 3
        using (var index = ImageIndex.Open(IndexFile, create: true))
            Assert.ThrowsAny<OperationCanceledException>(() => Indexer.Run(index, encoder, "vectors", [Photos], new IndexerOptions { BatchSize = 3 }, ct: cts.Token));
        encoder.BeforeEach = null;
        using (var index = ImageIndex.Open(IndexFile))
        {
            Assert.Equal("ok", index.IntegrityCheck());
            Assert.Equal(3, index.Count());
        }
        encoder.Embedded.Clear();
        var s = Run(new IndexerOptions { BatchSize = 3 });
        Assert.Equal((7, 3), (s.Embedded, s.Unchanged));
        Assert.Equal(7, encoder.Embedded.Distinct().Count());
    }

    [Fact]
    public void BadInputsNameTheFileOrFolder()
    {
        var missing = Assert.Throws<DirectoryNotFoundException>(() => Run());
        Assert.Contains("photos", missing.Message);
        File.WriteAllText(dir["not-an-index.db"], "hello, I am text");
        var e = Assert.Throws<InvalidDataException>(() => ImageIndex.Open(dir["not-an-index.db"]));
        Assert.Contains("not-an-index.db", e.Message);
        Assert.Throws<FileNotFoundException>(() => ImageIndex.Open(dir["nope.db"]));
    }

    public void Dispose() => dir.Dispose();
}
