using SharpClip.Data;
using SharpClip.Data.Sources;

namespace SharpClip.Tests.Data;

public class JsonlSourceTests
{
    [Fact]
    public void Reads_caption_strings_and_caption_arrays()
    {
        using var dir = new TempDir();
        dir.Image("a.jpg");
        dir.Image("b.jpg");
        var f = dir.File("d.jsonl",
            "{\"image\": \"a.jpg\", \"caption\": \" a cat \"}\n" +
            "\n" +
            "{\"image\": \"b.jpg\", \"captions\": [\"one\", \"\", \"two\"], \"extra\": 1}\n");
        var samples = new JsonlSource(f).ReadAll().ToList();
        Assert.Equal(["a cat"], samples[0].Captions);
        Assert.Equal(["one", "two"], samples[1].Captions);
        Assert.Equal(dir.Combine("b.jpg"), ((ImageFile)samples[1].Image).Path);
    }

    [Fact]
    public void Field_names_are_configurable()
    {
        using var dir = new TempDir();
        dir.Image("pics/a.jpg");
        var f = dir.File("d.jsonl", "{\"id\": 7, \"img\": \"pics/a.jpg\", \"alt\": [\"x\", \"y\"]}\n");
        var s = Assert.Single(new JsonlSource(f, new JsonlSourceOptions { ImageField = "img", CaptionField = "alt", KeyField = "id" }).ReadAll());
        Assert.Equal("7", s.Key);
        Assert.Equal(["x", "y"], s.Captions);
    }

    [Fact]
    public void Other_scalar_fields_are_kept_as_written()
    {
        using var dir = new TempDir();
        dir.Image("a.jpg");
        var f = dir.File("d.jsonl",
            "{\"image\": \"a.jpg\", \"captions\": [\"joker\"], \"label\": \"joker\", \"group\": \"activities\", \"n\": 3, \"ok\": true, \"tags\": [\"x\"], \"meta\": {\"a\": 1}, \"none\": null}\n" +
            "{\"image\": \"a.jpg\", \"caption\": \"plain\"}\n");
        var samples = new JsonlSource(f).ReadAll().ToList();
        Assert.Equal(new Dictionary<string, string> { ["label"] = "joker", ["group"] = "activities", ["n"] = "3", ["ok"] = "true" }, samples[0].Fields);
        Assert.Empty(samples[1].Fields);
    }

    [Theory]
    [InlineData("{\"image\": \"a.jpg\", \"caption\": \"fine\"}\n{\"image\": \"a.jpg\", \"caption\": \"broken\"\n", 2L, null, "not valid JSON")]
    [InlineData("{\"image\": \"a.jpg\", \"caption\": \"fine\"}\n{\"image\": \"a.jpg\"}\n", 2L, "captions|caption|title|text", "no caption field")]
    [InlineData("{\"caption\": \"x\"}\n", 1L, "image|filepath|file|path|image_path|url", "no image field")]
    [InlineData("{\"image\": 5, \"caption\": \"x\"}\n", 1L, "image", "expected a path string")]
    [InlineData("{\"image\": \"a.jpg\", \"caption\": {\"x\": 1}}\n", 1L, "caption", "expected a string or an array")]
    [InlineData("{\"image\": \"a.jpg\", \"captions\": [\"ok\", 3]}\n", 1L, "captions[1]", "expected a string")]
    [InlineData("[1, 2]\n", 1L, null, "expected a JSON object")]
    public void Malformed_lines_throw_naming_file_line_and_field(string content, long line, string? field, string problem)
    {
        using var dir = new TempDir();
        dir.Image("a.jpg");
        var f = dir.File("bad.jsonl", content);
        var e = Assert.Throws<DataFormatException>(() => new JsonlSource(f).ReadAll().ToList());
        Assert.Equal(f, e.File);
        Assert.Equal(line, e.Line);
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Missing_images_and_empty_captions_are_skipped_and_counted()
    {
        using var dir = new TempDir();
        dir.Image("a.jpg");
        var f = dir.File("d.jsonl",
            "{\"image\": \"a.jpg\", \"caption\": \"good\"}\n" +
            "{\"image\": \"gone.jpg\", \"caption\": \"x\"}\n" +
            "{\"image\": \"a.jpg\", \"captions\": [\"\", \" \"]}\n" +
            "{\"image\": \"a.jpg\", \"caption\": null}\n");
        var stats = new DataStats();
        Assert.Single(new JsonlSource(f).ReadAll(stats));
        Assert.Equal(1, stats.Skipped(SkipReason.MissingImage));
        Assert.Equal(2, stats.Skipped(SkipReason.EmptyCaption));
        Assert.Contains("missing image 1", stats.ToString());
    }
}
