using System.Text;
using SharpClip.Data;
using SharpClip.Data.Sources;
using SharpClip.Demos.Synthetic;

namespace SharpClip.Tests.Data;

public class ImageTextSourcesTests
{
    [Fact]
    public void The_format_is_chosen_from_the_spec()
    {
        using var dir = new TempDir();
        dir.Image("imgs/a.jpg");
        dir.File("imgs/a.txt", "x");
        var csv = dir.File("d.csv", "image,caption\nimgs/a.jpg,x\n");
        var tsv = dir.File("d.tsv", "image\tcaption\nimgs/a.jpg\tx\n");
        var jsonl = dir.File("d.jsonl", "{\"image\": \"imgs/a.jpg\", \"caption\": \"x\"}\n");
        Assert.IsType<CsvSource>(ImageTextSources.Open(csv));
        Assert.IsType<CsvSource>(ImageTextSources.Open(tsv));
        Assert.IsType<JsonlSource>(ImageTextSources.Open(jsonl));
        Assert.IsType<FolderSource>(ImageTextSources.Open(dir.Combine("imgs")));
        var synthetic = Assert.IsType<SyntheticShapesSplit>(ImageTextSources.Open("synthetic:shapes",
            SyntheticShapesSpec.Options(new SyntheticShapesOptions { TrainCount = 10 })));
        Assert.Equal((SyntheticSplit.Train, 10), (synthetic.Which, synthetic.Count));
        Assert.Throws<ArgumentException>(() => ImageTextSources.Open("synthetic:shapes:nope"));
        Assert.Throws<FileNotFoundException>(() => ImageTextSources.Open(dir.Combine("missing.csv")));
        Assert.Throws<ArgumentException>(() => ImageTextSources.Open(dir.File("d.parquet", "")));
    }

    [Fact]
    public void A_utf8_bom_does_not_become_part_of_the_first_column_name()
    {
        using var dir = new TempDir();
        dir.Image("a.jpg");
        var csv = dir.File("excel.csv", Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("image,caption\r\na.jpg,café\r\n")).ToArray());
        Assert.Equal("café", Assert.Single(new CsvSource(csv).ReadAll()).Captions[0]);
    }
}
