using System.Text.RegularExpressions;
using SharpClip.Tests.Infrastructure;

namespace SharpClip.Tests.Packaging;

/// <summary>
/// What a user reads works on a fresh clone and inside the packages: the README, docs/ and the package READMEs name no
/// file outside the repository (no <c>../shared</c>, no machine's absolute path), every relative link resolves to a
/// file in the repository, and the library package's README shows the same program as the README (which the packaging
/// test runs).
/// </summary>
public sealed partial class DocumentationPathsTests
{
    static IEnumerable<string> UserDocs()
    {
        var root = Fixtures.RepoRoot;
        yield return Path.Combine(root, "README.md");
        foreach (var f in Directory.GetFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal)) yield return f;
        foreach (var f in Directory.GetFiles(Path.Combine(root, "src"), "PACKAGE.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal)) yield return f;
    }

    [Fact]
    public void UserDocsPointOnlyInsideTheRepository()
    {
        var root = Path.GetFullPath(Fixtures.RepoRoot) + Path.DirectorySeparatorChar;
        var problems = new List<string>();
        foreach (var file in UserDocs())
        {
            var rel = Path.GetRelativePath(Fixtures.RepoRoot, file);
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                var line = lines[i];
                foreach (Match m in OutsidePath().Matches(line)) problems.Add($"{rel}:{i + 1}: '{m.Value}' is outside the repository");
                foreach (Match m in Link().Matches(line))
                {
                    var target = m.Groups[1].Value;
                    if (target.StartsWith('#') || Uri.TryCreate(target, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "mailto") continue;
                    var path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, Uri.UnescapeDataString(target.Split('#')[0])));
                    if (!path.StartsWith(root, StringComparison.Ordinal)) problems.Add($"{rel}:{i + 1}: link '{target}' leaves the repository");
                    else if (!File.Exists(path) && !Directory.Exists(path)) problems.Add($"{rel}:{i + 1}: link '{target}' names no file");
                }
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void TheScanCatchesWhatItLooksFor()
    {
        Assert.Matches(OutsidePath(), "default `../shared/fixtures/reference`");
        Assert.Matches(OutsidePath(), "set CLIP_FIXTURES_DIR=/work/shared/fixtures");
        Assert.Matches(OutsidePath(), @"..\shared\vocab");
        Assert.DoesNotMatch(OutsidePath(), "sharpclip index ~/Pictures --index pictures.db; docs/search.md; src/SharpClip/build/SharpClip.targets");
        Assert.Equal("docs/evaluation.md", Link().Match("see [the table](docs/evaluation.md).").Groups[1].Value);
    }

    [Fact]
    public void LibraryPackageReadmeShowsTheReadmesProgram()
    {
        var package = Path.Combine(Fixtures.RepoRoot, "src", "SharpClip", "PACKAGE.md");
        var markdown = File.ReadAllText(package);
        var block = Regex.Match(markdown, @"^```csharp\n(.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline);
        Assert.True(block.Success, $"{package}: no csharp block");
        Assert.Equal(ReadmeSnippet.Code, block.Groups[1].Value);
    }

    /// <summary>A path into the shared folder beside the clone, or an absolute path on some machine.</summary>
    [GeneratedRegex(@"\.\.[/\\]shared\b|(?<![\w.~])/(?:work|home|root|tmp|mnt)/")]
    private static partial Regex OutsidePath();

    /// <summary>The target of a Markdown link or image.</summary>
    [GeneratedRegex(@"\]\(([^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex Link();
}
