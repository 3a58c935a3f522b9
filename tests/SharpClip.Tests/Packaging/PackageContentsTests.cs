using System.IO.Compression;
using System.Xml.Linq;

namespace SharpClip.Tests.Packaging;

/// <summary>
/// What the packs contain (issue 17): full metadata in every package a user can meet (description, readme, licence,
/// tags, and the repository address the release passed), the tool as one small package that names a package per
/// platform, each with that platform's natives only, and the library usable by an app built for Windows or macOS.
/// Reads the packages <see cref="PackedPackages"/> made; the app build here is the only slow step.
/// </summary>
[Trait("Category", "Packaging")]
[Collection(PackagingCollection.Name)]
public sealed class PackageContentsTests(PackedPackages packages)
{
    static readonly XNamespace NoNamespace = XNamespace.None;

    [Fact]
    public void EveryPackageCarriesFullMetadata()
    {
        var ids = new[] { "SharpClip", "SharpClip.Cli" }.Concat(PackedPackages.Platforms.Select(rid => $"SharpClip.Cli.{rid}"));
        foreach (var id in ids)
        {
            using var zip = ZipFile.OpenRead(packages.Package(id));
            var metadata = Nuspec(zip).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            string? Value(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;
            XElement? Element(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name);

            Assert.Equal(id, Value("id"));
            Assert.True(Value("description") is { Length: > 80 }, $"{id}: no description worth the name");
            var readme = Value("readme");
            Assert.False(string.IsNullOrEmpty(readme), $"{id}: no readme");
            var readmeEntry = zip.GetEntry(readme!);
            Assert.True(readmeEntry is { Length: > 200 }, $"{id}: readme '{readme}' is not in the package");
            var license = Element("license");
            Assert.True(license is not null && (string?)license.Attribute("type") == "expression" && license.Value.Length > 0, $"{id}: no licence expression");
            Assert.Contains("clip", (Value("tags") ?? "").Split(' '));
            var repository = Element("repository");
            Assert.True(repository is not null, $"{id}: no <repository>");
            Assert.Equal("git", (string?)repository!.Attribute("type"));
            Assert.Equal(PackedPackages.RepositoryUrl, (string?)repository.Attribute("url"));
            Assert.Equal(PackedPackages.RepositoryUrl, Value("projectUrl"));
        }
    }

    [Fact]
    public void ToolIsAPointerToOnePackagePerPlatform()
    {
        using (var pointer = ZipFile.OpenRead(packages.Package("SharpClip.Cli")))
        {
            // Nothing to run in it: no assembly, no native.
            Assert.DoesNotContain(pointer.Entries, e => e.FullName.EndsWith(".dll", StringComparison.Ordinal) || e.FullName.Contains("/native", StringComparison.Ordinal));
            var settings = XDocument.Load(pointer.Entries.Single(e => e.Name == "DotnetToolSettings.xml").Open());
            var named = settings.Descendants(NoNamespace + "RuntimeIdentifierPackage")
                .ToDictionary(e => (string)e.Attribute("RuntimeIdentifier")!, e => (string)e.Attribute("Id")!);
            Assert.Equal(PackedPackages.Platforms.Order(), named.Keys.Order());
            foreach (var rid in PackedPackages.Platforms) Assert.Equal($"SharpClip.Cli.{rid}", named[rid]);
            Assert.Equal("sharpclip", (string?)settings.Descendants(NoNamespace + "Command").Single().Attribute("Name"));
        }

        foreach (var rid in PackedPackages.Platforms)
        {
            using var zip = ZipFile.OpenRead(packages.Package($"SharpClip.Cli.{rid}"));
            var folder = $"tools/net10.0/{rid}/";
            var files = zip.Entries.Where(e => e.FullName.StartsWith(folder, StringComparison.Ordinal))
                .Select(e => e.FullName[folder.Length..]).ToHashSet(StringComparer.Ordinal);
            foreach (var needed in PlatformNatives.For(rid).Append("SharpClip.Cli.dll").Append("DotnetToolSettings.xml").Append("SharpClip.Cli.runtimeconfig.json"))
                Assert.True(files.Contains(needed), $"SharpClip.Cli.{rid} has no {folder}{needed}");
            // One platform's libtorch only: the others would double the download for nothing.
            foreach (var other in PackedPackages.Platforms.Where(o => o != rid))
                Assert.DoesNotContain(PlatformNatives.Torch(other), files);
            foreach (var assembly in new[] { "SharpClip.dll", "SharpClip.Demos.dll", "SharpClip.Web.dll" })
                Assert.Null(NotAnyCpu(zip, folder + assembly));
        }
    }

    [Fact]
    public void LibraryPackageIsAnyCpu()
    {
        using var zip = ZipFile.OpenRead(packages.Package("SharpClip"));
        var dll = zip.Entries.Single(e => e.FullName.StartsWith("lib/", StringComparison.Ordinal) && e.Name == "SharpClip.dll");
        Assert.Null(NotAnyCpu(zip, dll.FullName));
    }

    /// <summary>
    /// An app built for Windows x64 or macOS arm64 on this Linux machine gets that platform's natives from the package's
    /// dependencies, and the package's Linux-only build step (TorchSharp's GLIBCXX fix) stays out of its way: the build
    /// succeeds and its output holds no Linux library.
    /// </summary>
    [Theory]
    [InlineData("win-x64")]
    [InlineData("osx-arm64")]
    public async Task LibraryBuildsIntoAnAppForAnotherPlatform(string rid)
    {
        var app = packages.CreateConsumerApp($"app-{rid}", "Console.WriteLine(typeof(SharpClip.Clip).Assembly.GetName().Name);\n", rid);
        var build = await Dotnet.Run(app, "build", "-c", "Release");
        Assert.True(build.ExitCode == 0, $"an app for {rid} did not build against the package\n{build.Both}");
        var bin = Path.Combine(app, "bin", "Release", "net10.0", rid);
        foreach (var native in PlatformNatives.For(rid))
            Assert.True(File.Exists(Path.Combine(bin, native)), $"{rid}: no {native} in {bin}");
        Assert.Empty(Directory.GetFiles(bin, "*.so*", SearchOption.AllDirectories));
        using var dll = File.OpenRead(Path.Combine(bin, "SharpClip.dll"));
        Assert.Null(PlatformNatives.NotAnyCpu(dll));
    }

    static XDocument Nuspec(ZipArchive zip) =>
        XDocument.Load(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/')).Open());

    static string? NotAnyCpu(ZipArchive zip, string path)
    {
        var entry = zip.GetEntry(path) ?? throw new FileNotFoundException($"no {path} in the package");
        using var s = entry.Open();
        var copy = new MemoryStream();
        s.CopyTo(copy);
        copy.Position = 0;
        return PlatformNatives.NotAnyCpu(copy) is { } why ? $"{path}: {why}" : null;
    }
}
