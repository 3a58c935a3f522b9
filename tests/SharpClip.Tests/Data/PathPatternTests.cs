using SharpClip.Data.Sources;

namespace SharpClip.Tests.Data;

public class PathPatternTests
{
    [Theory]
    [InlineData("s-{000..003}.tar", "s-000.tar s-001.tar s-002.tar s-003.tar")]
    [InlineData("s-{8..11}.tar", "s-8.tar s-9.tar s-10.tar s-11.tar")]
    [InlineData("{a,b}-{0..1}", "a-0 a-1 b-0 b-1")]
    [InlineData("x{a,{b,c}d}", "xa xbd xcd")]
    [InlineData("{2..0}", "2 1 0")]
    [InlineData("plain.tar", "plain.tar")]
    public void Braces_expand_lists_and_zero_padded_ranges(string pattern, string expected) =>
        Assert.Equal(expected.Split(' '), PathPattern.ExpandBraces(pattern));

    [Fact]
    public void An_unclosed_brace_is_a_format_error() =>
        Assert.Throws<FormatException>(() => PathPattern.ExpandBraces("s-{0..3.tar"));

    [Fact]
    public void Wildcards_match_in_any_segment_in_ordinal_order()
    {
        using var dir = new TempDir();
        dir.File("p1/b.tar", "");
        dir.File("p1/a.tar", "");
        dir.File("p2/c.tar", "");
        dir.File("p2/c.txt", "");
        var files = PathPattern.ExpandFiles(dir.Combine("p?/*.tar") + "::" + dir.Combine("p1/a.tar"));
        Assert.Equal([dir.Combine("p1/a.tar"), dir.Combine("p1/b.tar"), dir.Combine("p2/c.tar")], files);
        Assert.Throws<FileNotFoundException>(() => PathPattern.ExpandFiles(dir.Combine("p*/*.zip")));
    }
}
