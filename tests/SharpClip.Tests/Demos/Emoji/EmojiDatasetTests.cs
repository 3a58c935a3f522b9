using System.Text.Json;
using SharpClip.Data;
using SharpClip.Demos.Emoji;
using SharpClip.Evaluation;
using SharpClip.Tests.Data;
using SharpClip.Vision;
using static SharpClip.Tests.Demos.Emoji.EmojiFakePackages;
using SharpClip.Demos.Fetching;

namespace SharpClip.Tests.Demos.Emoji;

public class EmojiDatasetTests
{
    [Fact]
    public void Tarball_reader_strips_the_package_prefix_and_reads_only_wanted_files()
    {
        var tgz = Tgz(new Dictionary<string, byte[]> { ["a.json"] = Utf8("[1]"), ["img/x/sheets/32.png"] = [1, 2, 3], ["README.md"] = Utf8("hi") });
        var files = NpmTarball.Read(new MemoryStream(tgz), "t.tgz", p => p != "README.md");
        Assert.Equal(["a.json", "img/x/sheets/32.png"], files.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([1, 2, 3], files["img/x/sheets/32.png"]);
        var bad = Assert.Throws<InvalidDataException>(() => NpmTarball.Read(WriteTemp([1, 2, 3, 4]), _ => true));
        Assert.Contains(".tgz", bad.Message);
    }

    static string WriteTemp(byte[] bytes)
    {
        var p = Path.Combine(Path.GetTempPath(), $"sharpclip-bad-{Guid.NewGuid():N}.tgz");
        File.WriteAllBytes(p, bytes);
        return p;
    }

    [Fact]
    public void Code_points_normalise_and_variants_share_an_identity_group()
    {
        Assert.Equal("1F600", EmojiCodes.Normalize("1f600-fe0f"));
        Assert.Equal("0023-20E3", EmojiCodes.Normalize("0023-FE0F-20E3"));
        Assert.Throws<FormatException>(() => EmojiCodes.Normalize("extras-xyz"));
        Assert.Equal("1F44B", EmojiCodes.GroupKey("1F44B-1F3FB"));
        Assert.Equal(EmojiCodes.GroupKey("1F468-200D-1F692"), EmojiCodes.GroupKey("1F9D1-1F3FD-200D-1F692")); // man / person firefighter
        Assert.Equal("1F468", EmojiCodes.GroupKey("1F468")); // nothing left after removing variations: keep the man
        Assert.True(EmojiCodes.HasSkinTone("1F44B-1F3FB"));
        Assert.Equal("😀", EmojiCodes.ToText("1F600"));
    }

    // Expected values from Python: int(hashlib.sha1(key.encode()).hexdigest(), 16) % 5 == 0 → test, % 10 == 1 → val.
    [Theory]
    [InlineData("1F600", EmojiSplit.Test)]
    [InlineData("1F3B8", EmojiSplit.Test)]
    [InlineData("1F4DA", EmojiSplit.Test)]
    [InlineData("1F436", EmojiSplit.Validation)]
    [InlineData("1F333", EmojiSplit.Validation)]
    [InlineData("1F415", EmojiSplit.Train)]
    [InlineData("1F680", EmojiSplit.Train)]
    [InlineData("2B50", EmojiSplit.Train)]
    public void Split_is_sha1_of_the_group_key_mod_5(string key, EmojiSplit expected) => Assert.Equal(expected, EmojiCodes.SplitOf(key));

    [Fact]
    public void Catalog_joins_the_three_sources_on_code_points()
    {
        var c = EmojiCatalog.Join(Utf8(EmojiJson), Utf8(EmojibaseData), Utf8(EmojibaseMessages), Utf8(Emojilib));
        Assert.Equal(["1F600", "1F415", "1F436", "1F44B", "1F44B-1F3FB", "1F3B8"], c.Entries.Select(e => e.Key)); // component left out
        var dog = c.ByKey["1F415"];
        Assert.Equal(("dog", "animals & nature", "animal mammal"), (dog.Label, dog.Group, dog.Subgroup));
        Assert.Equal(["dog", "doggo"], dog.Keywords);
        Assert.DoesNotContain("facebook", dog.VendorArt); // the sheet cell holds another vendor's fallback art
        var skin = c.ByKey["1F44B-1F3FB"];
        Assert.Equal(("waving hand: light skin tone", "1F44B"), (skin.Label, skin.BaseKey));
        Assert.Equal((2, 1), skin.Sheet);
        Assert.Equal(c.ByKey["1F44B"].Split, skin.Split);
        var captions = EmojiCaptions.For(c.ByKey["1F600"]);
        Assert.Equal(5, captions.Count);
        Assert.Contains("an emoji of grinning face", captions);
        Assert.Contains("grinning face, face smiling, smileys & emotion", captions);
        Assert.DoesNotContain(captions, s => s.Contains("twitter")); // vendor names in emojilib keywords are style words
    }

    [Fact]
    public void Crop_and_pad_centres_the_ink_in_a_white_square()
    {
        var img = new RgbImage(20, 10);
        Array.Fill(img.Pixels, (byte)255);
        for (int y = 5; y < 7; y++) for (int x = 3; x < 7; x++) Set(img, x, y, (200, 0, 0)); // 4 × 2 red block
        Assert.Equal(new PixelRect(3, 5, 4, 2), EmojiArt.InkBox(img));
        var same = EmojiArt.CropAndPad(img, 4); // no resize: exact pixels
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
                Assert.Equal(y is 1 or 2 ? (200, 0, 0) : (255, 255, 255), ToTuple(same[x, y]));
        var square = new RgbImage(4, 4, same.Pixels.ToArray());
        Assert.Equal(square.Resize(8, 8).Pixels, EmojiArt.CropAndPad(img, 8).Pixels);
        var blank = new RgbImage(5, 5);
        Array.Fill(blank.Pixels, (byte)255);
        Assert.True(EmojiArt.IsBlank(blank));
    }

    [Fact]
    public void Sheet_cells_are_composited_over_white_at_34x_plus_1()
    {
        var rgba = new byte[70 * 36 * 4]; // transparent black everywhere
        void Px(int x, int y, byte r, byte a) { int i = (y * 70 + x) * 4; rgba[i] = r; rgba[i + 3] = a; }
        Px(35, 1, 255, 255);   // cell (1, 0) top-left: opaque red
        Px(36, 1, 0, 128);     // half-transparent black over white
        Px(34, 1, 0, 255);     // the gutter: not part of any cell
        var sheet = DecodedImage.FromSamples(PillowMode.RGBA, 70, 36, rgba);
        var cell = EmojiArt.SheetCellOnWhite(sheet, 1, 0, "t");
        Assert.Equal((255, 0, 0), ToTuple(cell[0, 0]));
        Assert.Equal((127, 127, 127), ToTuple(cell[1, 0])); // 255·(255−128)/255 rounded
        Assert.Equal((255, 255, 255), ToTuple(cell[31, 31]));
        Assert.Throws<InvalidDataException>(() => EmojiArt.SheetCellOnWhite(sheet, 2, 0, "t"));
    }

    [Fact]
    public void Iconify_icons_resolve_aliases_and_view_boxes()
    {
        var icons = """{"width":32,"height":32,"icons":{"a":{"body":"<g/>"},"b":{"body":"<path/>","left":2,"width":16}},"aliases":{"c":{"parent":"b"}}}""";
        var svgs = IconifySet.SvgsByCodePoints(Utf8(icons), Utf8("""{"1f600":"a","2764-fe0f":"c","1f601":"missing"}"""), "t");
        Assert.Equal(["1F600", "2764"], svgs.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("viewBox=\"0 0 32 32\"><g/>", svgs["1F600"]);
        Assert.Contains("viewBox=\"2 0 16 32\"><path/>", svgs["2764"]);
    }

    [Fact]
    public void Librsvg_renders_an_svg_on_white()
    {
        // Fails (with the install hint) rather than skipping when librsvg is missing.
        var svg = Utf8("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"><rect width=\"5\" height=\"10\" fill=\"#ff0000\"/></svg>");
        var img = SvgRasterizer.Render(svg, 20, "half.svg");
        Assert.Equal((20, 20), (img.Width, img.Height));
        Assert.Equal((255, 0, 0), ToTuple(img[2, 10]));
        Assert.Equal((255, 255, 255), ToTuple(img[15, 10]));
        var e = Assert.Throws<InvalidDataException>(() => SvgRasterizer.Render(Utf8("<svg"), 8, "broken.svg"));
        Assert.Contains("broken.svg", e.Message);
    }

    [Fact]
    public void Prepare_writes_ordinary_datasets_from_cached_tarballs_and_reuses_its_images()
    {
        using var tmp = new TempDir();
        WriteAll(Path.Combine(tmp.Path, "packages"));
        var options = new EmojiPrepareOptions { Directory = tmp.Path, SubgroupMinMembers = 1, NpmCommand = "/nonexistent/npm", Threads = 2 };
        var stages = new List<string>();
        var r = EmojiDataset.Prepare(options, new SyncProgress(p => stages.Add(p.Stage)));
        Assert.Contains("fetch", stages);
        Assert.Contains("render openmoji", stages);

        var google = r.Styles.Single(s => s.Style == "google");
        Assert.Equal((2, 1, 2, 1), (google.Train, google.Validation, google.Test, google.SkinVariants)); // 1F415,1F44B / 1F436 / 1F600,1F3B8
        Assert.Equal(0, r.Styles.Single(s => s.Style == "twitter").SkinVariants); // has_img_twitter false on the variant
        Assert.Equal(1, r.Styles.Single(s => s.Style == "facebook").Train); // the dog's fallback art is left out
        Assert.False(File.Exists(EmojiDataset.ImagePath(tmp.Path, "facebook", "1F415")));
        Assert.Equal(2, r.Styles.Single(s => s.Style == "openmoji").Test); // 1F3B8-FE0F.svg joined as 1F3B8
        var fluent = r.Styles.Single(s => s.Style == "fluent_flat");
        Assert.Equal((0, 2), (fluent.Train, fluent.Test)); // the guitar via its alias; the dog's icon is missing

        // The dog in Google's art is its sheet cell's colour, cropped, padded and resized to 32 px.
        var dog = ImageDecoder.Decode(EmojiDataset.ImagePath(tmp.Path, "google", "1F415")).ToRgb();
        Assert.Equal((32, 32), (dog.Width, dog.Height));
        var (cr, cg, cb) = CellColour(Array.IndexOf(EmojiCatalog.SheetVendors, "google"), 1, 0);
        Assert.Equal((cr, cg, cb), dog[16, 16]);
        Assert.Equal((255, 255, 255), ToTuple(dog[0, 16])); // 8 × 12 ink padded to 12 × 12: white margins left and right

        // Every other verb reads the files: JSONL captions, path,label CSVs.
        var train = SharpClip.Data.ImageTextSources.Open(Path.Combine(tmp.Path, "train.jsonl")).ReadAll().ToList();
        Assert.Equal(r.TrainSamples, train.Count);
        Assert.Contains(train, s => s.Captions.Contains("an emoji of waving hand: light skin tone"));
        var groups = LabeledDatasets.FromCsv(EmojiDataset.ZeroShotCsv(tmp.Path, "apple"));
        Assert.Equal(["smileys & emotion", "activities"], groups.ClassNames);
        var retrieval = File.ReadAllLines(Path.Combine(tmp.Path, "test", "openmoji_black.jsonl"));
        Assert.Equal(2, retrieval.Length);
        Assert.Equal("an emoji of grinning face", JsonDocument.Parse(retrieval[0]).RootElement.GetProperty("captions")[0].GetString());

        var again = EmojiDataset.Prepare(options);
        Assert.All(again.Styles, s => Assert.Equal(0, s.Rendered));
        Assert.Equal(r.Styles.Sum(s => s.Rendered), again.Styles.Sum(s => s.Reused));
    }

    [Fact]
    public void Missing_npm_says_what_to_install()
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<InvalidOperationException>(() =>
            new NpmFetcher(tmp.Path, "/nonexistent/npm").Fetch([EmojiDataset.Emojilib]));
        Assert.Contains("install Node.js with npm", e.Message);
        Assert.Contains("emojilib-4.0.3.tgz", e.Message);
    }

    static void Set(RgbImage img, int x, int y, (byte, byte, byte) c)
    {
        int i = (y * img.Width + x) * 3;
        (img.Pixels[i], img.Pixels[i + 1], img.Pixels[i + 2]) = c;
    }

    static (int, int, int) ToTuple((byte R, byte G, byte B) p) => (p.R, p.G, p.B);

    sealed class SyncProgress(Action<EmojiPrepareProgress> a) : IProgress<EmojiPrepareProgress>
    {
        public void Report(EmojiPrepareProgress value) => a(value);
    }
}
