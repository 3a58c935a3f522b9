using SharpClip.Tests.Infrastructure;

namespace SharpClip.Tests.Packaging;

/// <summary>
/// Both packages packed once per test run, as a user packs them (<c>dotnet pack -c Release</c>), into a fresh folder
/// outside the repository under a version no earlier run used (NuGet caches packages by id and version, so a reused
/// version could install yesterday's bits); the tool installed from that folder into a tool path of its own, and the
/// first fixture model converted by that tool into a model folder. Everything, the NuGet cache entries of the test
/// version included, is deleted afterwards. The packs are given a repository address (<see cref="RepositoryUrl"/>) the
/// way a release gives the real one, so the metadata test can see it arrive in the nuspecs.
/// </summary>
public sealed class PackedPackages : IAsyncLifetime
{
    public string Root { get; } = Directory.CreateTempSubdirectory("sharpclip-packaging-").FullName;

    public string Feed => Path.Combine(Root, "feed");

    public string ToolPath => Path.Combine(Root, "tools");

    public string Sharpclip => Path.Combine(ToolPath, "sharpclip");

    /// <summary>The first fixture model converted by the installed tool into a SharpClip model folder.</summary>
    public string ModelDir => Path.Combine(Root, "model");

    public string ModelId { get; } = Fixtures.Array("models").First().GetProperty("id").GetString()!;

    public string Version { get; } = $"0.0.0-packagetest.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";

    /// <summary>The address passed as <c>-p:SharpClipRepositoryUrl</c> (a reserved .invalid host: no real address).</summary>
    public const string RepositoryUrl = "https://example.invalid/sharpclip";

    /// <summary>The platforms the library carries natives for and the tool is packed for.</summary>
    public static readonly string[] Platforms = ["linux-x64", "win-x64", "osx-arm64"];

    /// <summary>The packed file of package <paramref name="id"/>.</summary>
    public string Package(string id) => Path.Combine(Feed, $"{id}.{Version}.nupkg");

    public static string NuGetPackagesFolder =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>
    /// A console app in <c>Root/name</c> that references the packed SharpClip as <c>dotnet new console</c> + <c>dotnet add
    /// package SharpClip</c> make it (a RuntimeIdentifier only when <paramref name="rid"/> is given), with
    /// <paramref name="program"/> as its Program.cs; nothing from the folders above it. Returns its folder.
    /// </summary>
    public string CreateConsumerApp(string name, string program, string? rid = null)
    {
        var app = Path.Combine(Root, name);
        Directory.CreateDirectory(app);
        // The local folder beside the sources this machine's NuGet configuration already has (no <clear/>): the upstream
        // feed brings TorchSharp and the other dependencies, the folder brings SharpClip.
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="sharpclip-packed" value="{Feed}" />
              </packageSources>
            </configuration>
            """);
        // Stop MSBuild's upward search for Directory.Build.* here: the app gets nothing from whatever folder holds it.
        File.WriteAllText(Path.Combine(app, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(app, "Directory.Build.targets"), "<Project />\n");
        var runtimeIdentifier = rid is null ? "" : $"\n    <RuntimeIdentifier>{rid}</RuntimeIdentifier>";
        File.WriteAllText(Path.Combine(app, "ReadmeApp.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>{runtimeIdentifier}
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="SharpClip" Version="{Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), program);
        return app;
    }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Feed);
        foreach (var project in new[] { "src/SharpClip/SharpClip.csproj", "src/SharpClip.Cli/SharpClip.Cli.csproj" })
        {
            // --no-restore: the solution's build restored these projects already; restoring again here would rewrite their
            // obj/project.assets.json while other tests of the same run use the build.
            var pack = await Dotnet.Run(Fixtures.RepoRoot, "pack", project, "-c", "Release", "-o", Feed, "--no-restore",
                $"-p:Version={Version}", $"-p:SharpClipRepositoryUrl={RepositoryUrl}");
            Assert.True(pack.ExitCode == 0, $"dotnet pack {project}\n{pack.Both}");
        }
        var install = await Dotnet.Run(Root, "tool", "install", "--tool-path", ToolPath, "--add-source", Feed, "--version", Version, "SharpClip.Cli");
        Assert.True(install.ExitCode == 0, $"dotnet tool install\n{install.Both}");
        var model = Fixtures.Entry("models", ModelId);
        var convert = await Dotnet.Exec(Sharpclip, Root,
            ["convert", Fixtures.PathOf(model.GetProperty("weights").GetString()!), ModelDir, "--vocab", Fixtures.VocabPath]);
        Assert.True(convert.ExitCode == 0, $"sharpclip convert\n{convert.Both}");
    }

    public Task DisposeAsync()
    {
        foreach (var id in new[] { "sharpclip", "sharpclip.cli" }.Concat(Platforms.Select(rid => $"sharpclip.cli.{rid}")))
        {
            var cached = Path.Combine(NuGetPackagesFolder, id, Version.ToLowerInvariant());
            if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true);
            var parent = Path.GetDirectoryName(cached)!;
            if (Directory.Exists(parent) && !Directory.EnumerateFileSystemEntries(parent).Any()) Directory.Delete(parent);
        }
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}
