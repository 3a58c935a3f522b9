using SharpClip.Data;
using SharpClip.Data.Sources;

namespace SharpClip.Tests.Data;

public class FolderSourceTests
{
    [Fact]
    public void Reads_txt_and_json_sidecars_in_sorted_order_with_relative_keys()
    {
        using var dir = new TempDir();
        dir.Image("b.jpg"); dir.File("b.txt", "first caption\n\n second caption \n");
        dir.Image("a.png"); dir.File("a.json", "{\"caption\": \"from json\"}");
        dir.Image("sub/c.webp"); dir.File("sub/c.json", "[\"x\", \"y\"]");
        dir.Image("sub/d.jpg"); dir.File("sub/d.json", "\"just a string\"");
        dir.Image("e.jpg"); dir.File("e.txt", "txt wins"); dir.File("e.json", "\"json loses\"");
        dir.File("notes.txt", "not an image");

        var source = new FolderSource(dir.Path);
        var samples = source.ReadAll().ToList();
        Assert.Equal(5, source.CountHint);
        Assert.Equal(["a", "b", "e", "sub/c", "sub/d"], samples.Select(s => s.Key));
        Assert.Equal(["from json"], samples[0].Captions);
        Assert.Equal(["first caption", "second caption"], samples[1].Captions);
        Assert.Equal(["txt wins"], samples[2].Captions);
        Assert.Equal(["x", "y"], samples[3].Captions);
        Assert.Equal(["just a string"], samples[4].Captions);
    }

    [Fact]
    public void Images_without_or_with_empty_sidecars_are_skipped_and_counted()
    {
        using var dir = new TempDir();
        dir.Image("a.jpg"); dir.File("a.txt", "ok");
        dir.Image("b.jpg");
        dir.Image("c.jpg"); dir.File("c.txt", "\n  \n");
        var stats = new DataStats();
        Assert.Single(new FolderSource(dir.Path).ReadAll(stats));
        Assert.Equal(1, stats.Skipped(SkipReason.MissingCaption));
        Assert.Equal(1, stats.Skipped(SkipReason.EmptyCaption));
    }

    [Fact]
    public void A_bad_json_sidecar_throws_naming_the_file()
    {
        using var dir = new TempDir();
        dir.Image("a.jpg");
        var json = dir.File("a.json", "{\n \"caption\": oops }");
        var e = Assert.Throws<DataFormatException>(() => new FolderSource(dir.Path).ReadAll().ToList());
        Assert.Equal(json, e.File);
        Assert.Equal(2, e.Line);
    }

    [Fact]
    public void The_file_list_is_cut_into_shards()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 7; i++) { dir.Image($"{i}.jpg"); dir.File($"{i}.txt", $"caption {i}"); }
        var source = new FolderSource(dir.Path, new FolderSourceOptions { ShardSize = 3 });
        Assert.Equal(3, source.Shards.Count);
        Assert.Equal([3, 3, 1], source.Shards.Select(s => s.Read(new DataStats()).Count()));
    }
}
