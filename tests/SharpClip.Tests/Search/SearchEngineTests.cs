using SharpClip.Search;

namespace SharpClip.Tests.Search;

public class SearchEngineTests : IDisposable
{
    readonly TempDir dir = new();
    readonly VectorFileEncoder encoder = new();

    string IndexFile => dir["index.db"];

    void IndexPhotos()
    {
        using var index = ImageIndex.Open(IndexFile, create: true);
        Indexer.Run(index, encoder, "vectors", [dir["photos"]]);
    }

    void Seed()
    {
        dir.Write("photos/x.png", "1 0 0 0");
        dir.Write("photos/y.png", "0 1 0 0");
        dir.Write("photos/xy.png", "1 1 0 0");
        dir.Write("photos/xz.png", "1 0 1 0");
        dir.Write("photos/w.png", "0 0 0 1");
    }

    static string Name(SearchHit h) => Path.GetFileNameWithoutExtension(h.Path);

    [Fact]
    public void TextImageCombinedAndNegativeQueriesComposeAsWeightedUnitSums()
    {
        Seed();
        IndexPhotos();
        using var engine = SearchEngine.Open(IndexFile, encoder);
        Assert.Equal(5, engine.Count);

        var text = engine.Search(new SearchQuery { Text = "1 0 0 0" }, 3);
        Assert.Equal(["x", "xy", "xz"], text.Take(1).Select(Name).Concat(text.Skip(1).Select(Name).Order()).ToArray());
        Assert.Equal(1f, text[0].Score, 5);
        Assert.Equal(1 / MathF.Sqrt(2), text[1].Score, 5);

        // text (1,0,0,0) + image (0,1,0,0), both unit, equal weights -> (1,1,0,0)/sqrt2: "xy" is an exact match
        var combined = engine.Search(new SearchQuery { Text = "1 0 0 0", Image = [0, 3, 0, 0] }, 1);
        Assert.Equal("xy", Name(combined[0]));
        Assert.Equal(1f, combined[0].Score, 5);

        // weights: text 3x the image -> (3,1,0,0)/sqrt10, so x (0.949) now beats xy (0.894); scores from plain arithmetic
        var weighted = engine.Search(new SearchQuery { Text = "1 0 0 0", Image = [0, 1, 0, 0], TextWeight = 3 }, 5);
        Assert.Equal(["x", "xy"], weighted.Take(2).Select(Name).ToArray());
        Assert.Equal(3 / MathF.Sqrt(10), weighted[0].Score, 5);
        Assert.Equal(4 / MathF.Sqrt(2) / MathF.Sqrt(10), weighted[1].Score, 5);

        // "like x but not z": (1,0,0,0) - (0,0,1,0) -> (1,0,-1,0)/sqrt2; xz scores 0, x scores 1/sqrt2
        var negative = engine.Search(new SearchQuery { Text = "1 0 0 0", Negative = "0 0 1 0" }, 5);
        Assert.Equal(1 / MathF.Sqrt(2), negative.Single(h => Name(h) == "x").Score, 5);
        Assert.Equal(0f, negative.Single(h => Name(h) == "xz").Score, 5);

        // more like an indexed image: itself first with score 1
        long wId = engine.Search(new SearchQuery { Text = "0 0 0 1" }, 1)[0].Id;
        var like = engine.Search(new SearchQuery { LikeId = wId }, 2);
        Assert.Equal((wId, 1f), (like[0].Id, MathF.Round(like[0].Score, 5)));

        Assert.Throws<ArgumentException>(() => engine.Search(new SearchQuery(), 3));
        Assert.Throws<KeyNotFoundException>(() => engine.Search(new SearchQuery { LikeId = 987654 }, 3));
        Assert.Throws<ArgumentException>(() => engine.Search(new SearchQuery { Image = [1, 2] }, 3));
    }

    [Fact]
    public void EnginePicksUpRowsAnotherWriterCommitsIncludingDeletions()
    {
        Seed();
        IndexPhotos();
        using var engine = SearchEngine.Open(IndexFile, encoder);
        Assert.False(engine.Refresh());

        dir.Write("photos/new.png", "0 0 1 1");
        IndexPhotos();                                   // a second connection, as a separate indexer process would be
        var hits = engine.Search(new SearchQuery { Text = "0 0 1 1" }, 1);
        Assert.Equal("new", Name(hits[0]));
        Assert.Equal(6, engine.Count);

        File.Delete(dir["photos/new.png"]);
        File.Delete(dir["photos/x.png"]);
        IndexPhotos();
        Assert.True(engine.Refresh());
        Assert.Equal(4, engine.Count);
        Assert.DoesNotContain(engine.Search(new SearchQuery { Text = "1 0 0 0" }, 10), h => Name(h) is "x" or "new");
    }

    [Fact]
    public void AnotherModelsEncoderIsRefused()
    {
        Seed();
        IndexPhotos();
        using var other = new VectorFileEncoder(4, "other-weights");
        var e = Assert.Throws<ModelMismatchException>(() => SearchEngine.Open(IndexFile, other));
        Assert.Contains("other-weights", e.Message);
        using var index = ImageIndex.Open(IndexFile);
        Assert.Throws<ModelMismatchException>(() => EncoderResolver.OpenFor(index, SharpClip.Demos.Toy.ToyColorEncoder.ModelName));
    }

    public void Dispose() => dir.Dispose();
}
