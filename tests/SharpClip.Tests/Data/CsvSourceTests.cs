using SharpClip.Data;
using SharpClip.Data.Sources;

namespace SharpClip.Tests.Data;

public class CsvSourceTests
{
    [Fact]
    public void Reads_quoted_fields_relative_paths_and_groups_repeated_rows()
    {
        using var dir = new TempDir();
        dir.Image("img/a.jpg");
        dir.Image("img/b.png");
        dir.Image("img/c.webp");
        var csv = dir.File("sub/../data.csv",
            "id,file,text\r\n" +
            "1,img/a.jpg,\"a cat, sitting\"\r\n" +
            "2,img/a.jpg,\"a \"\"quoted\"\" cat\"\r\n" +
            "3,img/b.png,\"two\nlines\"\n" +
            "\n" +
            "4,img/c.webp,plain\n");
        var source = new CsvSource(csv, new CsvSourceOptions { ImageColumn = "file", CaptionColumn = "text" });
        var stats = new DataStats();
        var samples = source.ReadAll(stats).ToList();

        Assert.Equal(["img/a.jpg", "img/b.png", "img/c.webp"], samples.Select(s => s.Key));
        Assert.Equal(["a cat, sitting", "a \"quoted\" cat"], samples[0].Captions);
        Assert.Equal(["two\nlines"], samples[1].Captions);
        Assert.Equal(dir.Combine("img/a.jpg"), ((ImageFile)samples[0].Image).Path);
        Assert.Equal(0, stats.TotalSkipped);
    }

    [Fact]
    public void Tsv_is_detected_by_extension_and_default_column_names_are_found()
    {
        using var dir = new TempDir();
        dir.Image("x.jpg");
        var tsv = dir.File("pairs.tsv", "filepath\ttitle\nx.jpg\ta dog, running\n");
        var s = Assert.Single(new CsvSource(tsv).ReadAll());
        Assert.Equal("a dog, running", s.Captions[0]);
    }

    [Fact]
    public void Caption_separator_splits_one_cell_into_several_captions()
    {
        using var dir = new TempDir();
        dir.Image("x.jpg");
        var csv = dir.File("d.csv", "image,caption\nx.jpg,first || second ||  || third\n");
        var s = Assert.Single(new CsvSource(csv, new CsvSourceOptions { CaptionSeparator = "||" }).ReadAll());
        Assert.Equal(["first", "second", "third"], s.Captions);
    }

    [Fact]
    public void Missing_images_and_empty_captions_are_skipped_and_counted()
    {
        using var dir = new TempDir();
        dir.Image("ok.jpg");
        dir.Image("blank.jpg");
        var csv = dir.File("d.csv", "image,caption\nok.jpg,fine\nmissing.jpg,lost\nblank.jpg,\"  \"\n,no path\n");
        var stats = new DataStats();
        var samples = new CsvSource(csv).ReadAll(stats).ToList();
        Assert.Equal(["ok.jpg"], samples.Select(s => s.Key));
        Assert.Equal(2, stats.Skipped(SkipReason.MissingImage));
        Assert.Equal(1, stats.Skipped(SkipReason.EmptyCaption));
        Assert.Contains(stats.Examples, e => e.Contains("missing.jpg") && e.Contains("line 3"));
    }

    [Theory]
    [InlineData("image,caption\na.jpg,\"never closed\n", 2L, "caption", "unterminated")]
    [InlineData("image,caption\na.jpg,ok\na.jpg,bad \"quote\" inside\n", 3L, "caption", "quote inside an unquoted field")]
    [InlineData("image,caption\n\"a.jpg\"x,text\n", 2L, "image", "after a closing quote")]
    [InlineData("image,caption\na.jpg,ok\nb.jpg\n", 3L, "caption", "1 field(s)")]
    public void Malformed_rows_throw_naming_file_line_and_field(string content, long line, string field, string problem)
    {
        using var dir = new TempDir();
        dir.Image("a.jpg");
        var csv = dir.File("bad.csv", content);
        var e = Assert.Throws<DataFormatException>(() => new CsvSource(csv).ReadAll().ToList());
        Assert.Equal(csv, e.File);
        Assert.Equal(line, e.Line);
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Message);
        Assert.Contains("bad.csv", e.Message);
    }

    [Fact]
    public void A_configured_column_missing_from_the_header_lists_the_columns()
    {
        using var dir = new TempDir();
        var csv = dir.File("d.csv", "path,label\na.jpg,x\n");
        var e = Assert.Throws<DataFormatException>(() => new CsvSource(csv, new CsvSourceOptions { CaptionColumn = "caption" }).ReadAll().ToList());
        Assert.Equal("caption", e.Field);
        Assert.Equal(1, e.Line);
        Assert.Contains("path, label", e.Message);
    }

    [Fact]
    public void Quoting_off_reads_bare_quotes_literally()
    {
        using var dir = new TempDir();
        dir.Image("a.jpg");
        var tsv = dir.File("d.tsv", "image\tcaption\na.jpg\tthe \"best\" cat\n");
        var s = Assert.Single(new CsvSource(tsv, new CsvSourceOptions { Quoting = false }).ReadAll());
        Assert.Equal("the \"best\" cat", s.Captions[0]);
    }

    [Fact]
    public void A_glob_makes_one_shard_per_file()
    {
        using var dir = new TempDir();
        dir.Image("a.jpg");
        dir.File("p1.csv", "image,caption\na.jpg,one\n");
        dir.File("p2.csv", "image,caption\na.jpg,two\n");
        var source = new CsvSource(dir.Combine("p*.csv"));
        Assert.Equal(2, source.Shards.Count);
        Assert.Equal(["one", "two"], source.ReadAll().Select(s => s.Captions[0]));
    }
}
