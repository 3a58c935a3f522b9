using System.IO.Compression;
using System.Xml.Linq;
using SharpClip.Tests.Infrastructure;

namespace SharpClip.Tests.Packaging;

/// <summary>
/// Where a package's repository address comes from when no release passed one (Directory.Build.props/targets): the
/// clone's https <c>origin</c>, and nothing from any other remote (ssh to an unknown host, a local path). A one-class probe library in a fresh
/// git repository imports this repository's Directory.Build.props and .targets and is packed once per origin (the
/// packaging fixture covers <c>-p:SharpClipRepositoryUrl</c>).
/// </summary>
[Trait("Category", "Packaging")]
public sealed class RepositoryUrlTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("sharpclip-repourl-").FullName;

    [Fact]
    public async Task OriginNamesTheRepositoryOnlyWhenItIsHttps()
    {
        await Git("init", "-q");
        File.WriteAllText(Path.Combine(root, "Directory.Build.props"), $"<Project><Import Project=\"{Path.Combine(Fixtures.RepoRoot, "Directory.Build.props")}\" /></Project>\n");
        File.WriteAllText(Path.Combine(root, "Directory.Build.targets"), $"<Project><Import Project=\"{Path.Combine(Fixtures.RepoRoot, "Directory.Build.targets")}\" /></Project>\n");
        File.WriteAllText(Path.Combine(root, "Probe.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <IsPackable>true</IsPackable>
                <PackageId>RepositoryProbe</PackageId>
                <Description>probe</Description>
              </PropertyGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(root, "Probe.cs"), "namespace Probe;\npublic static class P { }\n");
        await Git("add", "-A");
        await Git("-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "-q", "-m", "probe");

        await Git("remote", "add", "origin", "https://example.invalid/someone/sharpclip.git");
        var (repository, projectUrl) = await Pack("https://example.invalid/someone/sharpclip.git");
        Assert.Equal("https://example.invalid/someone/sharpclip.git", (string?)repository?.Attribute("url"));
        Assert.Equal("https://example.invalid/someone/sharpclip", projectUrl);
        Assert.Matches("^[0-9a-f]{40}$", (string?)repository?.Attribute("commit") ?? "");

        // An address that is not https (SourceLink passes this one through as it is) or a local path: no address at all.
        foreach (var other in new[] { "ssh://git@git.example.invalid/someone/sharpclip.git", Path.Combine(root, "elsewhere") })
        {
            await Git("remote", "set-url", "origin", other);
            (repository, projectUrl) = await Pack(other);
            Assert.NotNull(repository);
            Assert.Null(repository.Attribute("url"));
            Assert.Null(projectUrl);
        }
    }

    async Task<(XElement? Repository, string? ProjectUrl)> Pack(string name)
    {
        var output = Path.Combine(root, "out", Guid.NewGuid().ToString("N"));
        var pack = await Dotnet.Run(root, "pack", "Probe.csproj", "-o", output, "-p:Version=1.0.0");
        Assert.True(pack.ExitCode == 0, $"dotnet pack with origin {name}\n{pack.Both}");
        using var zip = ZipFile.OpenRead(Path.Combine(output, "RepositoryProbe.1.0.0.nupkg"));
        var metadata = XDocument.Load(zip.GetEntry("RepositoryProbe.nuspec")!.Open()).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        return (metadata.Elements().SingleOrDefault(e => e.Name.LocalName == "repository"),
                metadata.Elements().SingleOrDefault(e => e.Name.LocalName == "projectUrl")?.Value);
    }

    async Task Git(params string[] args)
    {
        var r = await Dotnet.Exec("git", root, args, TimeSpan.FromMinutes(1));
        Assert.True(r.ExitCode == 0, $"git {string.Join(' ', args)}\n{r.Both}");
    }

    public void Dispose()
    {
        try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
