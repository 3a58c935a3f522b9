using System.Text.Json;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Search;

namespace SharpClip.Tests.Cli;

/// <summary>
/// <c>sharpclip tokenize -m MODEL</c>: the model's tokenizer (here a weight file given <c>--vocab</c>) and its context
/// length, with no <c>--context-length</c>, give the reference's truncated token ids.
/// </summary>
public class TokenizeWithModelTests
{
    [Fact]
    public void AModelsTokenizerGivesTheReferencesIds()
    {
        var model = Fixtures.Array("models").First();
        var weights = Fixtures.PathOf(model.GetProperty("weights").GetString()!);
        int context = model.GetProperty("config").GetProperty("context_length").GetInt32();
        var cases = Fixtures.Manifest.GetProperty("tokenizer").GetProperty("cases").EnumerateArray()
            .Where(c => c.GetProperty("context_length").GetInt32() == context)
            .Select(c => (Text: c.GetProperty("text").GetString()!, Ids: c.GetProperty("tokens_truncate")))
            .Where(c => !c.Text.Contains('\0') && !c.Text.Any(char.IsSurrogate) && c.Text.Length > 0 && !c.Text.StartsWith('-'))
            .Take(20).ToList();
        Assert.NotEmpty(cases);
        var (exit, stdout, stderr) = CliProcess.Run(["tokenize", "-m", weights, "--vocab", Fixtures.VocabPath, "--truncate", "--", .. cases.Select(c => c.Text)]);
        Assert.True(exit == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(cases.Count, lines.Length);
        for (int i = 0; i < cases.Count; i++)
            Assert.Equal(cases[i].Ids.EnumerateArray().Select(t => t.GetInt64()), JsonSerializer.Deserialize<long[]>(lines[i])!);
    }
}
