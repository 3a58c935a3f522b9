using SharpClip.Evaluation;
using SharpClip.Evaluation.Plotting;
using SharpClip.Vision;

namespace SharpClip.Tests.Evaluation.Plotting;

/// <summary>
/// The plots carry readable text where a reader looks for it. Regions are found from the drawing itself (the axis
/// lines, the red diagonal), and every text check compares the ink's extent with <see cref="BitmapFont.Measure"/>.
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

    /// <summary>Saves as PNG and reads it back with the project's decoder: what a reader of the report sees.</summary>
    RgbImage ThroughPng(RgbImage image, string name)
    {
        var path = Path.Combine(_dir, name);
        image.SavePng(path);
        var decoded = ImageDecoder.Decode(path).ToRgb();
        Assert.Equal(image.Pixels, decoded.Pixels);
        return decoded;
    }

    /// <summary>
    /// Runs of values in ascending order, a new run wherever more than <paramref name="maxGap"/> values are missing:
    /// the rows of separate text lines (gap 0), or the columns of separate words (a gap of 3 stays inside a number).
    /// </summary>
    static List<(int From, int To)> Runs(IEnumerable<int> values, int maxGap = 0)
    {
        var runs = new List<(int From, int To)>();
        foreach (var v in values.Distinct().Order())
            if (runs.Count > 0 && v <= runs[^1].To + 1 + maxGap) runs[^1] = (runs[^1].From, v);
            else runs.Add((v, v));
        return runs;
    }

    [Fact]
    public void FewShotPlotHasTitleAxisTitlesTickValuesAndLegend()
    {
        const string title = "Few-shot probe: emoji (Apple)";
        var img = ThroughPng(LinePlot.FewShot(Points, 0.52, title), "fewshot.png");
        // The axes: the longest grey column and row.
        int axisX = Enumerable.Range(0, img.Width).MaxBy(x => Enumerable.Range(0, img.Height).Count(y => Ink.Is(img, x, y, Rgb.Axis)));
        int axisY = Enumerable.Range(0, img.Height).MaxBy(y => Enumerable.Range(0, img.Width).Count(x => Ink.Is(img, x, y, Rgb.Axis)));
        int top = Enumerable.Range(0, img.Height).First(y => Ink.Is(img, axisX, y, Rgb.Axis));

        var titlePixels = Ink.Pixels(img, Rgb.Text, y1: top - 4);
        Assert.Equal(Ink.ShapeOf(title, 2), Ink.Shape(titlePixels));
        var titleInk = Ink.Box(titlePixels)!.Value;
        Assert.InRange(titleInk.X + titleInk.Width / 2.0 - img.Width / 2.0, -1.5, 1.5);

        // y: "accuracy" reading upwards at the far left, then one tick label per 10 %.
        Assert.Equal(Ink.ShapeOf("accuracy", upward: true), Ink.Shape(Ink.Pixels(img, Rgb.Text, x1: 24, y0: top)));
        var yTicks = Ink.Pixels(img, Rgb.Text, x0: 24, x1: axisX, y0: top - 8, y1: axisY + 8);
        var tickRows = Runs(yTicks.Select(p => p.Y));
        Assert.Equal(11, tickRows.Count);
        for (int i = 0; i <= 10; i++) // top to bottom: 100 %, 90 %, …, 0 %
            Assert.Equal(Ink.ShapeOf($"{100 - 10 * i}%"), Ink.Shape(yTicks.Where(p => p.Y >= tickRows[i].From && p.Y <= tickRows[i].To).ToList()));

        // x: one label per k, then the axis title, then the legend with both series' colours.
        var xTicks = Ink.Pixels(img, Rgb.Text, x0: axisX + 1, y0: axisY + 1, y1: axisY + 20);
        var tickColumns = Runs(xTicks.Select(p => p.X), maxGap: 3);
        Assert.Equal(Points.Select(p => Ink.ShapeOf(p.Shots.ToString())),
            tickColumns.Select(r => Ink.Shape(xTicks.Where(p => p.X >= r.From && p.X <= r.To).ToList())));
        Assert.Equal(Ink.ShapeOf("training images per class (log scale)"), Ink.Shape(Ink.Pixels(img, Rgb.Text, y0: axisY + 20, y1: axisY + 40)));
        var legendRows = (y0: axisY + 40, y1: img.Height);
        Assert.NotEmpty(Ink.Pixels(img, Rgb.Text, y0: legendRows.y0, y1: legendRows.y1));
        Assert.NotEmpty(Ink.Pixels(img, Rgb.Red, y0: legendRows.y0, y1: legendRows.y1));
        Assert.NotEmpty(Ink.Pixels(img, Rgb.Blue, y0: legendRows.y0, y1: legendRows.y1));

        // Data: the zero-shot line at 52 % of the way from the x axis (0 %) to the top of the y axis (100 %).
        double Row(double accuracy) => axisY - accuracy * (axisY - top);
        var redRows = Enumerable.Range(top, axisY - top).Where(y => Ink.Pixels(img, Rgb.Red, y0: y, y1: y + 1).Count > img.Width / 4).ToList();
        Assert.NotEmpty(redRows);
        Assert.All(redRows, y => Assert.InRange(y, Row(0.52) - 1.5, Row(0.52) + 1.5));
        // The 16-shot mean (74 %) is the rightmost blue dot.
        var blue = Ink.Pixels(img, Rgb.Blue, y0: top, y1: axisY);
        int rightmost = blue.Max(p => p.X);
        var dot = Ink.Box(blue.Where(p => p.X >= rightmost - 6).ToList())!.Value;
        Assert.InRange(dot.Y + dot.Height / 2.0, Row(0.74) - 4, Row(0.74) + 4); // the ±1 % whiskers widen the box a little

        // Without a title the strip above the plot is blank: the ink there was the title.
        var untitled = LinePlot.FewShot(Points, 0.52, title: "");
        Assert.Empty(Ink.Pixels(untitled, Rgb.Text, y1: top - 4));
    }

    [Fact]
    public void SmallConfusionMatrixNamesItsClassesAndPrintsPercentages()
    {
        int[,] confusion = { { 3, 1 }, { 0, 4 } };
        const string title = "Zero-shot: pets";
        var img = ThroughPng(HeatMap.Confusion(confusion, ["cat", "dog"], title), "confusion.png");
        // The diagonal cells are outlined in red: their bounding box gives the grid.
        var red = Ink.Box(Ink.Pixels(img, Rgb.Red))!.Value;
        int cell = (red.Width + 1) / 2, gx = red.X - 1, gy = red.Y - 1; // outlines sit inside the one-pixel grid lines
        Assert.Equal(red.Width, red.Height);

        List<(int X, int Y)> CellPixels(int row, int col, Rgb colour) =>
            Ink.Pixels(img, colour, gx + col * cell + 2, gy + row * cell + 2, gx + (col + 1) * cell - 1, gy + (row + 1) * cell - 1);
        HashSet<(int X, int Y)> CellText(int row, int col, Rgb colour) => Ink.Shape(CellPixels(row, col, colour));
        // Row-normalised percentages: 75 in white on the dark diagonal, 25 in dark text on the pale cell, nothing where the count is 0.
        Assert.Equal(Ink.ShapeOf("75"), CellText(0, 0, Rgb.White));
        Assert.Equal(Ink.ShapeOf("25"), CellText(0, 1, Rgb.Text));
        Assert.Equal(Ink.ShapeOf("100"), CellText(1, 1, Rgb.White));
        var seventyFive = Ink.Box(CellPixels(0, 0, Rgb.White))!.Value;
        Assert.InRange(seventyFive.X + seventyFive.Width / 2.0 - (gx + cell / 2.0), -2, 2);
        var empty = Ink.Pixels(img, HeatMap.Colour(0), gx + 1, gy + cell + 1, gx + cell, gy + 2 * cell);
        Assert.Equal((cell - 1) * (cell - 1), empty.Count);

        // Class names: rows to the left of the grid, columns below it reading upwards.
        for (int i = 0; i < 2; i++)
        {
            var name = i == 0 ? "cat" : "dog";
            var rowLabel = Ink.Pixels(img, Rgb.Text, 24, gy + i * cell + 1, gx, gy + (i + 1) * cell);
            Assert.Equal(Ink.ShapeOf(name), Ink.Shape(rowLabel));
            Assert.Equal(gx - 5, rowLabel.Max(p => p.X) + 1);
            var colLabel = Ink.Pixels(img, Rgb.Text, gx + i * cell + 1, gy + 2 * cell + 2, gx + (i + 1) * cell, gy + 2 * cell + 25); // above "predicted class"
            Assert.Equal(Ink.ShapeOf(name, upward: true), Ink.Shape(colLabel));
        }
        // Axis titles and the title.
        Assert.Equal(Ink.ShapeOf("true class", upward: true), Ink.Shape(Ink.Pixels(img, Rgb.Text, 0, gy, 20, img.Height)));
        Assert.Equal(Ink.ShapeOf("predicted class"), Ink.Shape(Ink.Pixels(img, Rgb.Text, 0, img.Height - 20, img.Width, img.Height)));
        Assert.Equal(Ink.ShapeOf(title, 2), Ink.Shape(Ink.Pixels(img, Rgb.Text, 0, 0, img.Width, 30))); // the subtitle below is grey
    }

    [Fact]
    public void LongNamesAreShortenedAndManyClassesStayReadable()
    {
        var names = new[] { new string('w', 60), "café au lait ☕", "猫" };
        int[,] three = { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
        var img = HeatMap.Confusion(three, names);
        var red = Ink.Box(Ink.Pixels(img, Rgb.Red))!.Value;
        int cell = (red.Width + 2) / 3, gx = red.X - 1, gy = red.Y - 1;
        var first = Ink.Pixels(img, Rgb.Text, 24, gy + 1, gx, gy + cell);
        Assert.Equal(Ink.ShapeOf(new string('w', 17) + "…"), Ink.Shape(first)); // 17 × (5 + 1) + 5 ≤ 110 < 18 × 6 + 5
        Assert.True(Ink.Box(first)!.Value.Width <= HeatMap.MaxLabelWidth);
        Assert.Equal(Ink.ShapeOf("cafe au lait ?"), Ink.Shape(Ink.Pixels(img, Rgb.Text, 24, gy + cell + 1, gx, gy + 2 * cell)));
        Assert.Equal(Ink.ShapeOf("?"), Ink.Shape(Ink.Pixels(img, Rgb.Text, 24, gy + 2 * cell + 1, gx, gy + 3 * cell)));

        // 300 classes: small cells, every other class named, the picture still a sensible size.
        int c = 300;
        var big = new int[c, c];
        for (int i = 0; i < c; i++) big[i, i] = 1;
        var many = HeatMap.Confusion(big, Enumerable.Range(0, c).Select(i => $"class {i}").ToList());
        Assert.InRange(many.Width, c * 2, 2000);
        Assert.InRange(many.Height, c * 2, 2000);
        var labelRows = Runs(Ink.Pixels(many, Rgb.Text, 24, 0, 60, many.Height).Select(p => p.Y).Where(y => y > 40));
        Assert.InRange(labelRows.Count, c / 3, c / 2 + 2); // one text row per labelled class (plus the axis title's span)
    }
}
