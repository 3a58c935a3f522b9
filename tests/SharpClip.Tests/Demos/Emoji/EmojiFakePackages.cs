using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using SharpClip.Demos.Emoji;
using SharpClip.Vision;
using SharpClip.Demos.Fetching;

namespace SharpClip.Tests.Demos.Emoji;

/// <summary>Small hand-built npm tarballs with the layout of the pinned emoji packages (no network).</summary>
static class EmojiFakePackages
{
    /// <summary>A .tgz holding <paramref name="files"/> under npm's "package/" prefix (plus a directory entry).</summary>
    public static byte[] Tgz(IReadOnlyDictionary<string, byte[]> files)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "package/"));
            foreach (var (path, bytes) in files)
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/" + path) { DataStream = new MemoryStream(bytes) });
        }
        return ms.ToArray();
    }

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>The colour a vendor's sheet paints in cell (x, y): distinct per vendor and cell.</summary>
    public static (byte R, byte G, byte B) CellColour(int vendor, int x, int y) => ((byte)(40 + 50 * vendor), (byte)(20 + 60 * x), (byte)(30 + 80 * y));

    public const string EmojiJson = """
    [
      {"name":"GRINNING FACE","unified":"1F600","sheet_x":0,"sheet_y":0,"category":"Smileys & Emotion","subcategory":"face-smiling","has_img_apple":true,"has_img_google":true,"has_img_twitter":true,"has_img_facebook":true},
      {"name":"DOG","unified":"1F415","sheet_x":1,"sheet_y":0,"category":"Animals & Nature","subcategory":"animal-mammal","has_img_apple":true,"has_img_google":true,"has_img_twitter":true,"has_img_facebook":false},
      {"name":"DOG FACE","unified":"1F436","sheet_x":2,"sheet_y":0,"category":"Animals & Nature","subcategory":"animal-mammal","has_img_apple":true,"has_img_google":true,"has_img_twitter":true,"has_img_facebook":true},
      {"name":"WAVING HAND SIGN","unified":"1F44B","sheet_x":0,"sheet_y":1,"category":"People & Body","subcategory":"hand-fingers-open","has_img_apple":true,"has_img_google":true,"has_img_twitter":true,"has_img_facebook":true,
       "skin_variations":{"1F3FB":{"unified":"1F44B-1F3FB","sheet_x":2,"sheet_y":1,"has_img_apple":true,"has_img_google":true,"has_img_twitter":false,"has_img_facebook":true}}},
      {"name":"GUITAR","unified":"1F3B8","sheet_x":1,"sheet_y":1,"category":"Activities","subcategory":"musical-instrument","has_img_apple":true,"has_img_google":true,"has_img_twitter":true,"has_img_facebook":true},
      {"name":"EMOJI MODIFIER FITZPATRICK TYPE-1-2","unified":"1F3FB","sheet_x":2,"sheet_y":1,"category":"Component","subcategory":"skin-tone","has_img_apple":true,"has_img_google":true,"has_img_twitter":true,"has_img_facebook":true}
    ]
    """;

    public const string EmojibaseData = """
    [
      {"label":"grinning face","hexcode":"1F600","tags":["face","grin","happy"],"group":0,"subgroup":0},
      {"label":"dog","hexcode":"1F415","tags":["pet","animal"],"group":1,"subgroup":1},
      {"label":"dog face","hexcode":"1F436","tags":["pet"],"group":1,"subgroup":1},
      {"label":"waving hand","hexcode":"1F44B","tags":["hello","wave","bye","hi"],"group":2,"subgroup":2,
       "skins":[{"label":"waving hand: light skin tone","hexcode":"1F44B-1F3FB","group":2,"subgroup":2}]},
      {"label":"guitar","hexcode":"1F3B8","tags":["music"],"group":3,"subgroup":3}
    ]
    """;

    public const string EmojibaseMessages = """
    {"groups":[{"key":"smileys-emotion","message":"smileys & emotion","order":0},{"key":"animals-nature","message":"animals & nature","order":1},
               {"key":"people-body","message":"people & body","order":2},{"key":"activities","message":"activities","order":3}],
     "subgroups":[{"key":"face-smiling","message":"smiling","order":0},{"key":"animal-mammal","message":"mammal","order":1},
                  {"key":"hand-fingers-open","message":"open hand","order":2},{"key":"musical-instrument","message":"instrument","order":3}]}
    """;

    public const string Emojilib = """{"😀":["grinning_face","smile","twitter"],"🐕":["dog","doggo"],"🎸":["guitar","rock"]}""";

    static string Svg(string colour) => $"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 72 72\"><rect x=\"20\" y=\"10\" width=\"30\" height=\"50\" fill=\"{colour}\"/></svg>";

    /// <summary>Writes all six tarballs into <paramref name="packagesDir"/> under the names npm pack would give them.</summary>
    public static void WriteAll(string packagesDir)
    {
        Directory.CreateDirectory(packagesDir);
        void Put(NpmPackage p, Dictionary<string, byte[]> files) => File.WriteAllBytes(Path.Combine(packagesDir, p.TarballName), Tgz(files));
        var ds = new Dictionary<string, byte[]> { ["emoji.json"] = Utf8(EmojiJson) };
        for (int v = 0; v < EmojiCatalog.SheetVendors.Length; v++)
        {
            var sheet = new RgbImage(3 * EmojiArt.SheetPitch, 2 * EmojiArt.SheetPitch);
            Array.Fill(sheet.Pixels, (byte)255);
            for (int cx = 0; cx < 3; cx++)
                for (int cy = 0; cy < 2; cy++)
                {
                    var (r, g, b) = CellColour(v, cx, cy);
                    for (int y = 10; y < 22; y++)
                        for (int x = 12; x < 20; x++)
                        {
                            int i = (((cy * EmojiArt.SheetPitch) + 1 + y) * sheet.Width + cx * EmojiArt.SheetPitch + 1 + x) * 3;
                            sheet.Pixels[i] = r; sheet.Pixels[i + 1] = g; sheet.Pixels[i + 2] = b;
                        }
                }
            ds[$"img/{EmojiCatalog.SheetVendors[v]}/sheets/32.png"] = PngWriter.Encode(sheet);
        }
        Put(EmojiDataset.DataSource, ds);
        Put(EmojiDataset.Emojibase, new() { ["en/data.json"] = Utf8(EmojibaseData), ["en/messages.json"] = Utf8(EmojibaseMessages) });
        Put(EmojiDataset.Emojilib, new() { ["dist/emoji-en-US.json"] = Utf8(Emojilib) });
        Put(EmojiDataset.OpenMojiPackage, new()
        {
            ["color/svg/1F600.svg"] = Utf8(Svg("#ff0000")), ["color/svg/1F3B8-FE0F.svg"] = Utf8(Svg("#00ff00")), ["color/svg/1F415.svg"] = Utf8(Svg("#0000ff")),
            ["black/svg/1F600.svg"] = Utf8(Svg("#000000")), ["black/svg/1F3B8.svg"] = Utf8(Svg("#000000")),
        });
        var icons = """{"prefix":"f","width":32,"height":32,"icons":{"grin":{"body":"<circle cx=\"16\" cy=\"16\" r=\"8\" fill=\"#ffcc00\"/>"},"guitar":{"body":"<rect x=\"4\" y=\"4\" width=\"8\" height=\"20\" fill=\"#884400\"/>","width":16}},"aliases":{"guitar-alias":{"parent":"guitar"}}}""";
        var chars = """{"1f600":"grin","1f3b8-fe0f":"guitar-alias","1f415":"no-such-icon"}""";
        Put(EmojiDataset.FluentFlatPackage, new() { ["icons.json"] = Utf8(icons), ["chars.json"] = Utf8(chars) });
        Put(EmojiDataset.FluentHighContrastPackage, new() { ["icons.json"] = Utf8(icons), ["chars.json"] = Utf8(chars) });
    }
}
