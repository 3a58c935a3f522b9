using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using SharpClip.Data;
using SharpClip.Data.Sources;

namespace SharpClip.Tests.Data;

public class TarShardSourceTests
{
    /// <summary>Writes a tar (optionally gzipped) whose members are given in order.</summary>
    internal static string WriteTar(string path, IEnumerable<(string Name, byte[] Data)> members, bool gzip = false)
    {
        using var file = File.Create(path);
        using Stream stream = gzip ? new GZipStream(file, CompressionLevel.Fastest) : file;
        using (var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "./dir/"));
            foreach (var (name, data) in members)
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
        }
        return path;
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static (string, byte[])[] Members(string prefix) =>
    [
        ($"./{prefix}0001.jpg", [1, 2, 3]),
        ($"./{prefix}0001.txt", Utf8("a red car\nthe car is red")),
        ($"{prefix}0002.json", Utf8("{\"caption\": \"from json\", \"width\": 3}")),
        ($"{prefix}0002.png", [4, 5]),
        ($"{prefix}0003.txt", Utf8("caption but no image")),
        ($"{prefix}0004.jpg", [6]),
        ($"{prefix}0004.json", Utf8("{\"width\": 3}")),
        ($"{prefix}0005.webp", [7]),
        ($"{prefix}0005.txt", Utf8("   ")),
        ($"{prefix}0006.seg.png", [8]),
        ($"{prefix}0006.webp", [9]),
        ($"{prefix}0006.cls", Utf8("3")),
        ($"{prefix}0006.txt", Utf8("last one")),
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Groups_members_by_key_and_counts_incomplete_samples(bool gzip)
    {
        using var dir = new TempDir();
        var shard = WriteTar(dir.Combine(gzip ? "s.tar.gz" : "s.tar"), Members("dir/"), gzip);
        var stats = new DataStats();
        var samples = new TarShardSource(shard).ReadAll(stats).ToList();

        Assert.Equal(["dir/0001", "dir/0002", "dir/0006"], samples.Select(s => s.Key));
        Assert.Equal(["a red car", "the car is red"], samples[0].Captions);
        Assert.Equal(["from json"], samples[1].Captions);
        var img = Assert.IsType<EncodedImage>(samples[0].Image);
        Assert.Equal("jpg", img.Format);
        Assert.Equal(new byte[] { 1, 2, 3 }, img.Bytes.ToArray());
        Assert.Equal("png", ((EncodedImage)samples[1].Image).Format);
        Assert.Equal(new byte[] { 9 }, ((EncodedImage)samples[2].Image).Bytes.ToArray());   // "seg.png" is another member type
        Assert.Equal(1, stats.Skipped(SkipReason.IncompleteSample));
        Assert.Equal(1, stats.Skipped(SkipReason.MissingCaption));
        Assert.Equal(1, stats.Skipped(SkipReason.EmptyCaption));
    }

    [Fact]
    public void A_brace_range_names_several_shards_in_order()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 3; i++)
            WriteTar(dir.Combine($"shard-{i:D3}.tar"), [($"k{i}.jpg", [1]), ($"k{i}.txt", Utf8($"shard {i}"))]);
        var source = new TarShardSource(dir.Combine("shard-{000..002}.tar"));
        Assert.Equal(3, source.Shards.Count);
        Assert.Equal(["shard 0", "shard 1", "shard 2"], source.ReadAll().Select(s => s.Captions[0]));
        Assert.IsType<TarShardSource>(ImageTextSources.Open(dir.Combine("shard-*.tar")));
    }

    [Fact]
    public void A_truncated_shard_throws_naming_the_shard_and_last_member()
    {
        using var dir = new TempDir();
        var full = File.ReadAllBytes(WriteTar(dir.Combine("full.tar"),
            [("a.jpg", new byte[3000]), ("a.txt", Utf8("x")), ("b.jpg", new byte[3000]), ("b.txt", Utf8("y"))]));
        var cut = dir.File("cut.tar", full[..4200]);
        var e = Assert.Throws<DataFormatException>(() => new TarShardSource(cut).ReadAll().ToList());
        Assert.Equal(cut, e.File);
        Assert.Contains("truncated", e.Message);
        Assert.NotNull(e.Field);
    }

    [Fact]
    public void A_missing_shard_is_reported_when_the_source_is_opened()
    {
        using var dir = new TempDir();
        WriteTar(dir.Combine("s-0.tar"), []);
        var e = Assert.Throws<FileNotFoundException>(() => new TarShardSource(dir.Combine("s-{0..1}.tar")));
        Assert.Contains("s-1.tar", e.Message);
    }

    [Theory]
    [InlineData("./a/b/0001.jpg", "a/b/0001", "jpg")]
    [InlineData("0001.seg.PNG", "0001", "seg.png")]
    [InlineData("dir.v2/x.txt", "dir.v2/x", "txt")]
    [InlineData("README", null, null)]
    [InlineData("dir/._hidden", null, null)]
    public void Member_names_split_into_key_and_extension_like_webdataset(string name, string? key, string? ext)
    {
        var split = TarShardSource.SplitMemberName(name);
        Assert.Equal(key, split?.Key);
        Assert.Equal(ext, split?.Extension);
    }
}
