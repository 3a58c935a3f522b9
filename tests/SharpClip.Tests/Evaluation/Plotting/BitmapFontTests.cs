using SharpClip.Evaluation.Plotting;

namespace SharpClip.Tests.Evaluation.Plotting;

public class BitmapFontTests
{
    [Fact]
    public void CapitalLIsAStemAndAFootOfInk()
    {
        var canvas = new Canvas(30, 30, Rgb.White);
        var box = canvas.Text("L", 10, 10, Rgb.Text);
        var ink = Ink.Pixels(canvas.Image, Rgb.Text).ToHashSet();
        // 'L': the left column for the 7 cap rows, and the bottom row 5 wide; nothing else.
        var expected = Enumerable.Range(10, 7).Select(y => (10, y)).Concat(Enumerable.Range(10, 5).Select(x => (x, 16))).ToHashSet();
        Assert.Equal(expected, ink);
        Assert.Equal(new TextBox(10, 10, 5, 7), box);
    }

    [Fact]
    public void ScaleTurnsEachPixelIntoABlock()
    {
        var canvas = new Canvas(40, 40, Rgb.White);
        canvas.Text("L", 4, 4, Rgb.Text, scale: 3);
        var ink = Ink.Pixels(canvas.Image, Rgb.Text);
        Assert.Equal((7 + 5 - 1) * 9, ink.Count); // 11 glyph pixels, 3×3 each
        Assert.Equal((4, 4, 15, 21), Ink.Box(ink));
        Assert.True(Ink.Is(canvas.Image, 4 + 3 * 4 + 2, 4 + 3 * 6 + 2, Rgb.Text)); // far corner of the foot
        Assert.False(Ink.Is(canvas.Image, 4 + 3, 4, Rgb.Text));                   // right of the stem's top
    }

    [Theory]
    [InlineData("Hi", 1)]
    [InlineData("Hello, World", 1)]
    [InlineData("accuracy 100%", 2)]
    [InlineData("MWmw", 3)]
    public void MeasuredWidthIsTheWidthOfTheInk(string text, int scale)
    {
        // Texts that start and end with ink in their outer columns: the drawn extent must equal the measure.
        var ink = Ink.Pixels(Ink.Render(text, scale), Rgb.Text);
        var box = Ink.Box(ink)!.Value;
        Assert.Equal(BitmapFont.Measure(text, scale), box.Width);
        Assert.Equal(10, box.X);
        Assert.Equal(10, box.Y);
        Assert.Equal(BitmapFont.Measure(text, 1) * scale, BitmapFont.Measure(text, scale));
    }

    [Fact]
    public void DescendersHangBelowTheBoxAndCapitalsFillIt()
    {
        var canvas = new Canvas(60, 40, Rgb.White);
        var box = canvas.Text("Hg", 5, 5, Rgb.Text, scale: 2);
        var ink = Ink.Box(Ink.Pixels(canvas.Image, Rgb.Text))!.Value;
        Assert.Equal(BitmapFont.CapHeight * 2, box.Height);
        Assert.Equal(box.Y, ink.Y);                                                      // 'H' reaches the cap line
        Assert.Equal(box.Height + BitmapFont.Descent * 2, ink.Height);                   // 'g' hangs two rows below
    }

    [Fact]
    public void EveryPrintableCharacterHasItsOwnInk()
    {
        var seen = new Dictionary<string, char>();
        for (char ch = '!'; ch <= '~'; ch++)
        {
            var ink = Ink.Pixels(Ink.Render(ch.ToString()), Rgb.Text);
            Assert.True(ink.Count > 0, $"'{ch}' draws nothing");
            var key = string.Join(";", ink);
            Assert.False(seen.TryGetValue(key, out var twin), $"'{ch}' draws the same pixels as '{twin}'");
            seen[key] = ch;
        }
        Assert.Empty(Ink.Pixels(Ink.Render(" "), Rgb.Text));
        Assert.True(BitmapFont.Measure("a b") > BitmapFont.Measure("ab"));
    }

    [Fact]
    public void DigitsShareOneWidthSoColumnsOfNumbersLineUp()
    {
        var widths = Enumerable.Range(0, 10).Select(d => BitmapFont.Measure(d.ToString())).Distinct();
        Assert.Equal([BitmapFont.CellWidth], widths);
        Assert.Equal(BitmapFont.Measure("11"), BitmapFont.Measure("88"));
        Assert.True(BitmapFont.Measure("il") < BitmapFont.Measure("mw")); // letters are proportional
    }

    [Fact]
    public void CharactersOutsideTheFontBecomeQuestionMarks()
    {
        Assert.Equal("cat ? ? !", BitmapFont.ToPrintable("cat 猫 😀 !")); // the emoji (a surrogate pair) is one '?'
        Assert.Equal("naive cafe - \"x\" 'y' 2x3", BitmapFont.ToPrintable("naïve café – “x” ‘y’ 2×3"));
        Assert.Equal("?", BitmapFont.ToPrintable("\u0007"));
        var question = Ink.Pixels(Ink.Render("a?"), Rgb.Text);
        Assert.Equal(question, Ink.Pixels(Ink.Render("a猫"), Rgb.Text));
        Assert.Equal(question, Ink.Pixels(Ink.Render("a\U0001F600"), Rgb.Text));
        Assert.Equal(Ink.Pixels(Ink.Render("cafe"), Rgb.Text), Ink.Pixels(Ink.Render("café"), Rgb.Text));
        Assert.Equal(BitmapFont.Measure("x?"), BitmapFont.Measure("x\U0001F600"));
    }

    [Fact]
    public void FitCutsWithAnEllipsisOnlyWhenNeeded()
    {
        Assert.Equal("short", BitmapFont.Fit("short", 100));
        var cut = BitmapFont.Fit("a rather long class name that cannot fit", 60);
        Assert.EndsWith("…", cut);
        Assert.StartsWith("a rather", cut);
        Assert.True(BitmapFont.Measure(cut) <= 60, cut);
        var prefix = cut[..^1];
        Assert.True(BitmapFont.Measure("a rather long class name that cannot fit"[..(prefix.Length + 1)] + "…") > 60, "a longer prefix would have fitted");
        Assert.Equal("…", BitmapFont.Fit("WWW", 3));
        Assert.True(BitmapFont.Measure(BitmapFont.Fit("WWWWWWWW", 40, scale: 2), 2) <= 40);
    }

    [Fact]
    public void UpwardTextIsTheHorizontalTextTurnedAQuarterAnticlockwise()
    {
        const string text = "HELLO";
        var flat = Ink.Pixels(Ink.Render(text), Rgb.Text).Select(p => (p.X - 10, p.Y - 10)).ToHashSet();
        var canvas = new Canvas(60, 60, Rgb.White);
        var box = canvas.Text(text, 5, 5, Rgb.Text, upward: true);
        int length = BitmapFont.Measure(text);
        Assert.Equal(new TextBox(5, 5, BitmapFont.CapHeight, length), box);
        // Horizontal pixel (x along, y down) lands at (y, length − 1 − x) inside the box: the first letter at the bottom.
        var turned = Ink.Pixels(canvas.Image, Rgb.Text).Select(p => (X: length - 1 - (p.Y - 5), Y: p.X - 5)).ToHashSet();
        Assert.Equal(flat, turned);
    }
}
