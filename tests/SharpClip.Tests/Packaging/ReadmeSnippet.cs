using System.Text.RegularExpressions;
using SharpClip.Tests.Infrastructure;

namespace SharpClip.Tests.Packaging;

/// <summary>
/// The README's "As a library" program, read from README.md itself so the README and the tests that compile and run it
/// cannot drift: the first <c>```csharp</c> block under the <c>## As a library</c> heading.
/// </summary>
public static partial class ReadmeSnippet
{
    public const string Heading = "## As a library";

    public static string ReadmePath => Path.Combine(Fixtures.RepoRoot, "README.md");

    /// <summary>The program's text (without the fence lines).</summary>
    public static string Code => CSharpBlockAfter(File.ReadAllText(ReadmePath), Heading, ReadmePath);

    /// <summary>The first csharp block after <paramref name="heading"/> (before the next <c>## </c> heading).</summary>
    public static string CSharpBlockAfter(string markdown, string heading, string source)
    {
        int at = markdown.IndexOf(heading + "\n", StringComparison.Ordinal);
        if (at < 0) throw new InvalidOperationException($"{source}: no '{heading}' section");
        var section = markdown[(at + heading.Length)..];
        int next = section.IndexOf("\n## ", StringComparison.Ordinal);
        if (next >= 0) section = section[..next];
        var block = CSharpBlock().Match(section);
        if (!block.Success) throw new InvalidOperationException($"{source}: no ```csharp block in its '{heading}' section");
        return block.Groups[1].Value;
    }

    /// <summary>The string literals of the program, in order (simple "..." literals; enough for file and label names).</summary>
    public static IReadOnlyList<string> StringLiterals(string code) =>
        StringLiteral().Matches(code).Select(m => m.Groups[1].Value).ToList();

    /// <summary>The literals that name image files: the test puts fixture images under these names.</summary>
    public static IReadOnlyList<string> ImageNames(string code) =>
        StringLiterals(code).Where(s => ImageFile().IsMatch(s)).Distinct().ToList();

    [GeneratedRegex(@"^```csharp\n(.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"(?<![@$])""((?:[^""\\\n]|\\.)*)""")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"^[\w./-]+\.(jpe?g|png|webp|gif|bmp)$", RegexOptions.IgnoreCase)]
    private static partial Regex ImageFile();
}
