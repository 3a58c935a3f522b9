using System.Buffers.Binary;
using SharpClip.Evaluation;
using SharpClip.Plotting;
using SharpClip.Vision;

namespace SharpClip.Tests.Plotting;

/// <summary>
/// The report plots as files: valid PNGs of the size asked for, the same bytes on every render, and real drawing in
/// them (pixel variance, the series' colours, text where the title goes). The look itself is ScottPlot's.
/// </summary>
public class PlotTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("sharpclip-plots-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly FewShotPoint[] Points =
    [
        new(1, 0.31, 0.05, [0.26, 0.31, 0.36]), new(2, 0.42, 0.04, [0.38, 0.42, 0.46]), new(4, 0.55, 0.03, [0.52, 0.55, 0.58]),
        new(8, 0.66, 0.02, [0.64, 0.66, 0.68]), new(16, 0.74, 0.01, [0.73, 0.74, 0.75]),
    ];

    static readonly int[,] Pets = { { 3, 1 }, { 0, 4 } };

    static readonly byte[] PngSignature = [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>
    /// Saves as PNG, checks the file is one (signature, IHDR size, 8-bit RGB) and reads it back with the project's
    /// decoder: what a reader of the report sees.
    /// </summary>
    RgbImage ThroughPng(RgbImage image, string name)
    {
        var path = Path.Combine(_dir, name);
        image.SavePng(path);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(PngSignature, bytes[..8]);
        Assert.Equal("IHDR"u8.ToArray(), bytes[12..16]);
        Assert.Equal(image.Width, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
        Assert.Equal(image.Height, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
        Assert.Equal(8, bytes[24]); // bit depth
        Assert.Equal(2, bytes[25]); // colour type: RGB
        var decoded = ImageDecoder.Decode(path).ToRgb();
        Assert.Equal(image.Pixels, decoded.Pixels);
        return decoded;
    }

    /// <summary>Variance of the grey level over all pixels: 0 for a blank picture.</summary>
    static double Variance(RgbImage img)
    {
        double sum = 0, sumSq = 0;
        int n = img.Width * img.Height;
        for (int i = 0; i < n; i++)
        {
            double g = (img.Pixels[3 * i] + img.Pixels[3 * i + 1] + img.Pixels[3 * i + 2]) / 3.0;
            sum += g;
            sumSq += g * g;
        }
        return sumSq / n - sum / n * (sum / n);
    }

    /// <summary>Pixels within <paramref name="tolerance"/> levels (per channel) of a colour, in rows [y0, y1).</summary>
    static int Count(RgbImage img, ScottPlot.Color c, int tolerance = 8, int y0 = 0, int y1 = int.MaxValue)
    {
        int count = 0;
        for (int y = y0; y < Math.Min(y1, img.Height); y++)
            for (int x = 0; x < img.Width; x++)
            {
                var (r, g, b) = img[x, y];
                if (Math.Abs(r - c.R) <= tolerance && Math.Abs(g - c.G) <= tolerance && Math.Abs(b - c.B) <= tolerance) count++;
            }
        return count;
    }

    /// <summary>Pixels clearly red (anti-aliased edges of a red line over blue included).</summary>
    static int Reddish(RgbImage img)
    {
        int count = 0;
        for (int i = 0; i < img.Pixels.Length; i += 3)
            if (img.Pixels[i] > img.Pixels[i + 1] + 60 && img.Pixels[i] > img.Pixels[i + 2] + 60) count++;
        return count;
    }

    /// <summary>Pixels that are not pure white in rows [y0, y1): ink.</summary>
    static int NonWhite(RgbImage img, int y0, int y1) => (Math.Min(y1, img.Height) - y0) * img.Width - Count(img, ScottPlot.Colors.White, 0, y0, y1);

    [Theory]
    [InlineData(640, 420)]
    [InlineData(1000, 600)]
    [InlineData(320, 260)]
    public void FewShotPlotIsAPngOfTheRequestedSize(int width, int height)
    {
        var img = ThroughPng(FewShotPlot.Render(Points, 0.52, "Few-shot probe: emoji (Apple)", width, height), $"fewshot-{width}.png");
        Assert.Equal((width, height), (img.Width, img.Height));
        Assert.True(Variance(img) > 100, $"variance {Variance(img)}");
    }

    [Fact]
    public void FewShotPlotIsTheSameOnEveryRender()
    {
        var first = FewShotPlot.Render(Points, 0.52, "Few-shot probe: emoji (Apple)");
        var second = FewShotPlot.Render(Points, 0.52, "Few-shot probe: emoji (Apple)");
        Assert.Equal(first.Pixels, second.Pixels);
        Assert.NotEqual(first.Pixels, FewShotPlot.Render(Points, 0.53, "Few-shot probe: emoji (Apple)").Pixels);
    }

    [Fact]
    public void FewShotPlotDrawsTheCurveTheZeroShotLineAndTheTitle()
    {
        var img = FewShotPlot.Render(Points, 0.52, "Few-shot probe: emoji (Apple)");
        Assert.True(Count(img, PlotColours.Blue) > 300, "the probe curve is blue");
        Assert.True(Count(img, PlotColours.Red) > 150, "the zero-shot line is red");
        var noZeroShot = FewShotPlot.Render(Points, null, "Few-shot probe: emoji (Apple)");
        Assert.Equal(0, Count(noZeroShot, PlotColours.Red));

        // The title is text in the top band: another title changes those rows and nothing else, and puts ink there.
        var other = FewShotPlot.Render(Points, 0.52, "Another title, longer than the first one");
        var changedRows = Enumerable.Range(0, img.Height)
            .Where(y => !img.Pixels.AsSpan(y * img.Width * 3, img.Width * 3).SequenceEqual(other.Pixels.AsSpan(y * img.Width * 3, img.Width * 3))).ToList();
        Assert.NotEmpty(changedRows);
        Assert.InRange(changedRows.Max(), 0, 35);
        Assert.True(NonWhite(img, 0, 35) > 200, "title text");
        Assert.Equal(0, NonWhite(img, 0, 5)); // the title sits inside the picture, below its top edge
    }

    [Fact]
    public void FewShotPlotRefusesWhatItCannotDraw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FewShotPlot.Render(Points, 0.5, width: 100, height: 100));
        Assert.Throws<ArgumentException>(() => FewShotPlot.Render([new FewShotPoint(0, 0.5, 0, [0.5])], 0.5));
        Assert.True(NonWhite(FewShotPlot.Render([], null), 0, int.MaxValue) > 1000); // axes and labels even with no points
    }

    [Fact]
    public void LineChartDrawsEachSeriesAndReferenceInItsColourAndPanelsSitSideBySide()
    {
        var chart = new LineChart
        {
            Title = "Guidance", XLabel = "scale", YLabel = "R-precision", Percent = true,
            Series = [new("kept", [1, 3, 7.5], [0.2, 0.5, 0.6], [0.05, 0.05, 0.05]) { ErrorBelow = [0.2, 0.1, 0.1] }, new("group", [1, 3, 7.5], [0.4, 0.7, 0.8])],
            References = [new("real images", 0.9), new("chance", 0.125)],
        };
        var img = ThroughPng(LinePlot.Render(chart, 500, 360), "chart.png");
        Assert.True(Count(img, LinePlot.SeriesColour(0)) > 150, "first series");
        Assert.True(Count(img, LinePlot.SeriesColour(1)) > 150, "second series");
        Assert.True(Count(img, LinePlot.ReferenceColour(0)) > 100, "first reference line");
        Assert.Equal(0, Count(LinePlot.Render(chart with { Series = [chart.Series[0]] }, 500, 360), LinePlot.SeriesColour(1)));

        var both = LinePlot.Panels([chart, chart with { Title = "Other" }], 300, 260);
        Assert.Equal((600, 260), (both.Width, both.Height));
        var left = LinePlot.Render(chart, 300, 260);
        for (int y = 0; y < 260; y++)
            Assert.True(left.Pixels.AsSpan(y * 300 * 3, 300 * 3).SequenceEqual(both.Pixels.AsSpan(y * 600 * 3, 300 * 3)), $"row {y} of the left panel");

        Assert.Throws<ArgumentException>(() => LinePlot.Render(chart with { LogX = true, Series = [new("zero", [0, 1], [0.1, 0.2])] }));
        Assert.Throws<ArgumentException>(() => LinePlot.Render(chart with { Series = [new("short", [1, 2], [0.1])] }));
    }

    [Fact]
    public void ConfusionMatrixIsAPngWhoseSizeFollowsTheCellSize()
    {
        var small = ThroughPng(HeatMap.Confusion(Pets, ["cat", "dog"], "Zero-shot: pets", cellSize: 40), "confusion-40.png");
        var large = ThroughPng(HeatMap.Confusion(Pets, ["cat", "dog"], "Zero-shot: pets", cellSize: 60), "confusion-60.png");
        Assert.Equal(small.Height + 2 * 20, large.Height); // the grid is exactly classes × cell pixels
        Assert.True(large.Width >= small.Width);
        Assert.True(Variance(small) > 100, $"variance {Variance(small)}");
    }

    [Fact]
    public void ConfusionMatrixIsTheSameOnEveryRender()
    {
        var first = HeatMap.Confusion(Pets, ["cat", "dog"], "Zero-shot: pets");
        Assert.Equal(first.Pixels, HeatMap.Confusion(Pets, ["cat", "dog"], "Zero-shot: pets").Pixels);
        Assert.NotEqual(first.Pixels, HeatMap.Confusion(Pets, ["cat", "dog"], "Zero-shot: cats").Pixels);
    }

    [Fact]
    public void ConfusionMatrixShadesRowSharesAndOutlinesTheDiagonal()
    {
        var none = HeatMap.Colour(0);
        Assert.True(none.R >= 245 && none.G >= 245 && none.B >= 245, $"white, got {none}");
        var full = HeatMap.Colour(1);
        Assert.True(full.B > full.R + 60 && full.B > full.G + 40 && full.R < 40, $"dark blue, got {full}");

        var img = HeatMap.Confusion(Pets, ["cat", "dog"], "Zero-shot: pets", cellSize: 48);
        Assert.True(Count(img, full, 2) > 48 * 48 / 2, "the 100% cell is the darkest shade");
        Assert.True(Count(img, HeatMap.Colour(0.25), 2) > 48 * 48 / 2, "the 25% cell is a pale shade");
        Assert.True(Reddish(img) > 4 * 48, "the diagonal cells are outlined in red");
        Assert.Equal(0, Reddish(HeatMap.Confusion(Pets, ["cat", "dog"], "Zero-shot: pets", cellSize: 4))); // no outline on tiny cells
    }

    [Fact]
    public void ManyClassesStayASensibleSize()
    {
        int c = 300;
        var big = new int[c, c];
        for (int i = 0; i < c; i++) big[i, i] = 1;
        var names = Enumerable.Range(0, c).Select(i => $"class {i} with a long name that gets cut").ToList();
        var many = HeatMap.Confusion(big, names);
        Assert.InRange(many.Width, c * 2, 2000);
        Assert.InRange(many.Height, c * 2, 2000);
        Assert.True(Variance(many) > 100);
    }

    [Fact]
    public void ConfusionMatrixRefusesMismatchedInput()
    {
        Assert.Throws<ArgumentException>(() => HeatMap.Confusion(new int[2, 3]));
        Assert.Throws<ArgumentException>(() => HeatMap.Confusion(new int[0, 0]));
        Assert.Throws<ArgumentException>(() => HeatMap.Confusion(Pets, ["cat"]));
    }
}
