using SharpClip.Data;

namespace SharpClip.Tests.Demos.Emoji;

/// <summary><c>emoji:</c> dataset specs: malformed forms and unprepared files are named in the error.</summary>
public class EmojiSpecTests
{
    [Theory]
    [InlineData("emoji:")]
    [InlineData("emoji:training")]
    [InlineData("emoji:test")]
    [InlineData("emoji:test:")]
    public void MalformedSpecsAreNamed(string spec)
    {
        var e = Assert.Throws<ArgumentException>(() => ImageTextSources.Open(spec));
        Assert.Contains($"'{spec}'", e.Message);
    }

    [Fact]
    public void AnUnpreparedStyleNamesTheFileAndTheCommand()
    {
        var e = Assert.Throws<FileNotFoundException>(() => ImageTextSources.Open("emoji:test:no_such_style"));
        Assert.Contains("no_such_style.jsonl", e.Message);
        Assert.Contains("sharpclip datasets prepare emoji", e.Message);
    }
}
