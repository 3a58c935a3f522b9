using SharpClip.Search;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Vision;
using SharpClip.Vision;

namespace SharpClip.Tests.Search;

/// <summary>
/// 16-bit grey PNGs that Pillow's I → RGB conversion clips to (nearly) white are indexed (the embedding keeps the
/// reference's conversion) but get a warning in the index, so the blank thumbnail has a visible reason.
/// </summary>
public class ImageWarningsTests : IDisposable
{
    readonly TempDir dir = new();

    /// <summary>An encoder that accepts every file (one fixed vector), so real PNGs reach the index whatever they hold.</summary>
    sealed class AnyFileEncoder : IImageTextEncoder
    {
        public string Fingerprint => "any-file-v1";
        public int Dimension => 2;
        public float[] EmbedText(string text) => [1, 0];
        public IReadOnlyList<EncodeResult> EmbedImages(IReadOnlyList<string> paths, CancellationToken ct = default) =>
            [.. paths.Select(_ => EncodeResult.Success([1, 0], 1, 1))];
        public float[] EmbedImage(Stream image) => [1, 0];
        public ImageInfo Probe(Stream image) => new(1, 1, "any");
        public EncodedImage Thumbnail(string path, int maxSide) => new([], "image/png");
        public void Dispose() { }
    }

    static byte[] Grey16(int clippedOutOf100, ushort high = 1000, ushort low = 100) =>
        TestPng16.Grey(10, 10, (x, y) => y * 10 + x < clippedOutOf100 ? high : low);

    [Theory]
    [InlineData(80, 1000, 100, "80%")]
    [InlineData(100, 65535, 0, "100%")]
    [InlineData(50, 255, 254, "50%")]        // 255 itself is white: the first sample value that clips
    [InlineData(49, 60000, 10, null)]        // under half white: a real, if partly clipped, picture
    [InlineData(100, 254, 0, null)]          // a dark 16-bit scan converts without clipping
    public void A16BitGreyPngIsWarnedAboutWhenMostOfItClipsToWhite(int clipped, int high, int low, string? share)
    {
        string path = dir.Write("grey16.png", Grey16(clipped, (ushort)high, (ushort)low));
        Assert.Equal(PillowMode.I, ImageDecoder.ReadHeader(path).Mode);
        string? warning = ImageWarnings.For(path);
        if (share is null) Assert.Null(warning);
        else
        {
            Assert.NotNull(warning);
            Assert.StartsWith("16-bit grey image: Pillow's conversion clips it; it embeds as (nearly) blank", warning);
            Assert.Contains($"({share} of pixels clip to white)", warning);
        }
    }

    [Fact]
    public void OtherImagesAndNonImagesGetNoWarning()
    {
        Assert.Null(ImageWarnings.For(dir.Write("rgb.png", TestImages.Made["PNG"]())));
        Assert.Null(ImageWarnings.For(dir.Write("photo.jpg", TestImages.Made["JPEG"]())));
        Assert.Null(ImageWarnings.For(dir.Write("text.png", "not an image")));
        Assert.Null(ImageWarnings.For(dir.Write("cut.png", Grey16(100).AsSpan(0, 40).ToArray())));   // header only: unreadable, not warned
        Assert.Null(ImageWarnings.For(dir["missing.png"]));
    }

    public static IEnumerable<object[]> Grey16Fixtures =>
        Fixtures.Array("images").Where(e => e.GetProperty("id").GetString() == "gray16_160x240")
            .Select(e => new object[] { e.GetProperty("file").GetString()! });

    /// <summary>
    /// The reference set's 16-bit grey PNG (samples 0..1055): tests/SharpClip.Tests/Search/grey16_clip_share.py counts
    /// 30077 of its 38400 samples at 255 or above (0.78325...) by unfiltering the PNG by hand, independent of libvips.
    /// </summary>
    [Theory]
    [MemberData(nameof(Grey16Fixtures))]
    public void TheReferenceGrey16FixtureIsWarnedWithItsClippedShare(string file)
    {
        string? warning = ImageWarnings.For(Fixtures.PathOf(file));
        Assert.NotNull(warning);
        Assert.EndsWith("(78% of pixels clip to white)", warning);
    }

    [Fact]
    public void TheIndexKeepsTheImageAndListsTheWarningUntilTheFileChangesOrGoes()
    {
        string grey = dir.Write("photos/scan16.png", Grey16(90));
        dir.Write("photos/colour.png", TestImages.Made["PNG"]());
        string index = dir["index.db"];
        IndexSummary Run()
        {
            using var ix = ImageIndex.Open(index, create: true);
            return Indexer.Run(ix, new AnyFileEncoder(), "any", [dir["photos"]]);
        }

        var first = Run();
        Assert.Equal((2, 1), (first.Embedded, first.Warned));
        using (var ix = ImageIndex.Open(index))
        {
            var w = Assert.Single(ix.Warnings());
            Assert.Equal(grey, w.Path);
            Assert.Contains("(90% of pixels clip to white)", w.Reason);
            Assert.Equal(grey, ix.Get(w.ImageId!.Value)!.Path);                // still searchable
            Assert.Equal((2L, 0L, 1L), (ix.Stats().Images, ix.Stats().Failures, ix.Stats().Warnings));
        }

        Assert.Equal(0, Run().Warned);                                           // unchanged: the warning stays
        using (var ix = ImageIndex.Open(index)) Assert.Single(ix.Warnings());

        File.WriteAllBytes(grey, Grey16(10));                                    // rescanned darker: no longer blank
        File.SetLastWriteTimeUtc(grey, DateTime.UtcNow.AddMinutes(1));
        Assert.Equal(0, Run().Warned);
        using (var ix = ImageIndex.Open(index)) Assert.Empty(ix.Warnings());

        File.WriteAllBytes(grey, Grey16(95));
        File.SetLastWriteTimeUtc(grey, DateTime.UtcNow.AddMinutes(2));
        Assert.Equal(1, Run().Warned);
        File.Delete(grey);
        Run();
        using (var ix = ImageIndex.Open(index)) Assert.Equal((0, 1L), (ix.Warnings().Count, ix.Stats().Images));
    }

    [Fact]
    public void AnIndexMadeBeforeTheWarningsTableGetsItOnOpen()
    {
        string index = dir["old.db"];
        using (var ix = ImageIndex.Open(index, create: true)) { }
        using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={index};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "DROP TABLE warnings";
            cmd.ExecuteNonQuery();
        }
        using (var ix = ImageIndex.Open(index))
        {
            Assert.Empty(ix.Warnings());
            Assert.Equal(0L, ix.Stats().Warnings);
        }
    }

    public void Dispose() => dir.Dispose();
}
