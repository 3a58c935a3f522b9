using SharpClip.Search;
using SharpClip.Demos.Toy;
using SharpClip.Tests.Search;

namespace SharpClip.Tests.Demos.Toy;

public class ToyColorEncoderTests : IDisposable
{
    readonly SharpClip.Tests.Search.TempDir dir = new();

    [Fact]
    public void ImagesEmbedByMeanColourInEveryBmpLayout()
    {
        using var enc = new ToyColorEncoder(0);
        // half red, half blue: mean (0.5, 0, 0.5) — in 24-bit bottom-up and 32-bit top-down files
        byte[] Half(int bpp, bool topDown) => TestBmp.Make(6, 4, (x, _) => x < 3 ? ((byte)255, (byte)0, (byte)0) : ((byte)0, (byte)0, (byte)255), bpp, topDown);
        var paths = new[] { dir.Write("a.bmp", Half(24, false)), dir.Write("b.bmp", Half(32, true)), dir.Write("c.bmp", "not an image") };
        var results = enc.EmbedImages(paths);
        var expected = ToyColorEncoder.EmbedColor(0.5f, 0f, 0.5f);
        Assert.Equal(expected, results[0].Embedding!, new ToleranceComparer(1e-6f));
        Assert.Equal(expected, results[1].Embedding!, new ToleranceComparer(1e-6f));
        Assert.Equal((6, 4), (results[0].Width, results[0].Height));
        Assert.False(results[2].Ok);
        Assert.Contains("BMP", results[2].Error);
        // purple is the nearest palette colour to (0.5, 0, 0.5)
        int best = Array.IndexOf(expected, expected.Max());
        Assert.Equal("purple", ToyColorEncoder.Palette[best].Name);
    }

    [Fact]
    public void ColourWordsRankMatchingImagesFirstAndThumbnailsShrink()
    {
        using var enc = new ToyColorEncoder(0);
        var red = enc.EmbedImages([dir.Write("r.bmp", TestBmp.Solid(40, 20, 220, 30, 30))])[0].Embedding!;
        var green = enc.EmbedImages([dir.Write("g.bmp", TestBmp.Solid(4, 4, 30, 170, 40))])[0].Embedding!;
        var text = enc.EmbedText("a RED car");
        Assert.True(Vectors.Dot(text, red) > Vectors.Dot(text, green));
        Assert.Equal(enc.EmbedText("grey"), enc.EmbedText("gray"));
        Assert.InRange(Vectors.Dot(enc.EmbedText("no colour words"), enc.EmbedText("none at all")), 0.9999, 1.0001);

        var thumb = enc.Thumbnail(dir["r.bmp"], 10);
        using var s = new MemoryStream(thumb.Bytes);
        Assert.Equal(new ImageInfo(10, 5, "bmp"), enc.Probe(s));
        Assert.Equal("image/bmp", thumb.ContentType);
        Assert.Throws<InvalidDataException>(() => enc.EmbedImage(new MemoryStream([1, 2, 3])));
    }

    [Fact]
    public void ResolverKnowsTheToyAndNamesUnknownModels()
    {
        using var enc = EncoderResolver.Open(ToyColorEncoder.ModelName);
        Assert.IsType<ToyColorEncoder>(enc);
        var e = Assert.Throws<NotSupportedException>(() => EncoderResolver.Open("/no/such/model.safetensors"));
        Assert.Contains("/no/such/model.safetensors", e.Message);
    }

    [Fact]
    public void RegisteredProvidersOpenTheirModelsAndTakePrecedence()
    {
        const string name = "test:vector-files-for-resolver";
        EncoderResolver.Register(m => m == name ? new VectorFileEncoder(3, "resolver-test") : null);
        using var enc = EncoderResolver.Open(name);
        Assert.Equal(("resolver-test", 3), (enc.Fingerprint, enc.Dimension));
        using var toy = EncoderResolver.Open(ToyColorEncoder.ModelName);   // the built-in still answers its own name
        Assert.IsType<ToyColorEncoder>(toy);
    }

    sealed class ToleranceComparer(float tol) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tol;
        public int GetHashCode(float x) => 0;
    }

    public void Dispose() => dir.Dispose();
}
