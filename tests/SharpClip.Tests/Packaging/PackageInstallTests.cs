using System.Globalization;
using System.Text.Json;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Modeling;

namespace SharpClip.Tests.Packaging;

/// <summary>
/// SharpClip as a .NET developer installs it (issue 17): the packed library referenced by a brand-new console app outside
/// the repository, running the README's own program; and the <c>sharpclip</c> tool installed from the packed folder.
/// Both run libtorch, so both prove that the package's build step made TorchSharp's native library loadable on this
/// machine (Debian 12's libstdc++ lacks the GLIBCXX version it asks for). A few minutes: two packs, a tool install
/// and a console app's restore and build.
/// </summary>
[Trait("Category", "Packaging")]
[Collection(PackagingCollection.Name)]
public sealed class PackageInstallTests(PackedPackages packages)
{
    [Fact]
    public async Task ReadmeProgramRunsInANewConsoleAppThatReferencesThePackage()
    {
        var code = ReadmeSnippet.Code;
        // What `dotnet new console` + `dotnet add package SharpClip` give, with no RuntimeIdentifier: natives under runtimes/.
        var app = packages.CreateConsumerApp("app", code);
        var build = await Dotnet.Run(app, "build", "-c", "Release");
        Assert.True(build.ExitCode == 0, $"the README's program did not build against the package\n{code}\n{build.Both}");

        var bin = Path.Combine(app, "bin", "Release", "net10.0");
        var so = Directory.GetFiles(bin, "libLibTorchSharp.so", SearchOption.AllDirectories);
        Assert.NotEmpty(so);
        foreach (var f in so) AssertWeakenedCopy(f);
        // The same output runs on every supported platform: each one's natives under runtimes/<rid>/native (or the
        // family's folder, runtimes/osx/native for Skia's universal macOS build).
        foreach (var rid in PackedPackages.Platforms)
        {
            string[] folders = [Path.Combine(bin, "runtimes", rid, "native"), Path.Combine(bin, "runtimes", rid.Split('-')[0], "native")];
            foreach (var native in PlatformNatives.For(rid))
                Assert.True(folders.Any(f => File.Exists(Path.Combine(f, native))), $"{rid}: no {native} under {string.Join(" or ", folders)}");
        }

        // The images the program names, as fixture images; the model as args[0] (and under any models/... path it names),
        // and fixture images after it (a program that takes its files from args[1..]).
        var run = Path.Combine(packages.Root, "run");
        Directory.CreateDirectory(run);
        var images = ReadmeSnippet.ImageNames(code);
        var fixtureImages = Fixtures.ImagePaths(Fixtures.Entry("models", packages.ModelId).GetProperty("eval"));
        for (int i = 0; i < images.Count; i++)
        {
            var target = Path.Combine(run, images[i]);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(fixtureImages[i % fixtureImages.Length], target, overwrite: true);
        }
        foreach (var literal in ReadmeSnippet.StringLiterals(code).Where(l => l.StartsWith("models/", StringComparison.Ordinal)))
        {
            var link = Path.Combine(run, literal);
            Directory.CreateDirectory(Path.GetDirectoryName(link)!);
            if (!Directory.Exists(link)) Directory.CreateSymbolicLink(link, packages.ModelDir);
        }
        var result = await Dotnet.Run(run, [Path.Combine(bin, "ReadmeApp.dll"), packages.ModelDir, .. fixtureImages.Take(2)]);
        Assert.True(result.ExitCode == 0, $"the README's program failed\n{result.Both}");
        Assert.DoesNotContain("Exception", result.Out + result.Err, StringComparison.Ordinal);
        // It printed zero-shot labels: some of the names it was given (other than files) appear in its output.
        var names = ReadmeSnippet.StringLiterals(code).Except(images).Where(l => !l.StartsWith("models/", StringComparison.Ordinal) && l.Length > 1).ToList();
        Assert.True(names.Any(n => result.Out.Contains(n, StringComparison.Ordinal)), $"no label among [{string.Join(", ", names)}] in the output\n{result.Both}");
    }

    [Fact]
    public async Task ToolInstallsFromThePackedFolderAndRuns()
    {
        var help = await Dotnet.Exec(packages.Sharpclip, packages.Root, ["--help"]);
        Assert.True(help.ExitCode == 0, help.Both);
        foreach (var verb in new[] { "info", "classify", "embed", "quickstart", "serve" }) Assert.Contains(verb, help.Out);

        // info on the bare fixture file: the figures the reference recorded for it.
        var entry = Fixtures.Entry("models", packages.ModelId);
        var config = entry.GetProperty("config");
        var info = await Dotnet.Exec(packages.Sharpclip, packages.Root, ["info", Fixtures.PathOf(entry.GetProperty("weights").GetString()!)]);
        Assert.True(info.ExitCode == 0, info.Both);
        Assert.Contains(entry.GetProperty("param_count").GetInt64().ToString("N0", CultureInfo.InvariantCulture), info.Out);
        Assert.Contains($"{config.GetProperty("embed_dim").GetInt32()}-d", info.Out);
        int n = config.GetProperty("image_resolution").GetInt32();
        Assert.Contains($"{n}×{n}", info.Out);

        var so = Directory.GetFiles(Path.Combine(packages.ToolPath, ".store"), "libLibTorchSharp.so", SearchOption.AllDirectories);
        Assert.Single(so);
        AssertWeakenedCopy(so[0]);

        // Text features through libtorch in the installed tool, against the reference implementation's.
        using var reference = new ReferenceModel(packages.ModelId);
        var captions = Fixtures.Strings(reference.Section("eval"), "captions");
        var output = Path.Combine(packages.Root, "texts.jsonl");
        var embed = await Dotnet.Exec(packages.Sharpclip, packages.Root,
            ["embed", "--model", packages.ModelDir, "--raw", "-o", output, .. captions.SelectMany(c => new[] { "-t", c })]);
        Assert.True(embed.ExitCode == 0, embed.Both);
        using var expected = reference.Tensor("eval", "text_features");
        var want = expected.to(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray();
        int dim = (int)expected.shape[1];
        var lines = File.ReadAllLines(output);
        Assert.Equal(captions.Length, lines.Length);
        double maxDiff = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            Assert.Equal(captions[i], doc.RootElement.GetProperty("text").GetString());
            var got = doc.RootElement.GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            Assert.Equal(dim, got.Length);
            for (int d = 0; d < dim; d++) maxDiff = Math.Max(maxDiff, Math.Abs(got[d] - want[i * dim + d]));
        }
        Assert.True(maxDiff <= 1e-4, $"installed tool's text features differ from the reference by {maxDiff:g3}");

        // The paper's 80 ImageNet templates come with the tool: classify from a folder with no prompts file anywhere above.
        var image = Fixtures.ImagePaths(reference.Section("eval"))[0];
        var classify = await Dotnet.Exec(packages.Sharpclip, packages.Root,
            ["classify", "--model", packages.ModelDir, "--labels", "cat,dog", "--templates", "imagenet", "--json", image]);
        Assert.True(classify.ExitCode == 0, classify.Both);
        using var json = JsonDocument.Parse(classify.Out[classify.Out.IndexOf('{')..]);
        Assert.Equal(80, json.RootElement.GetProperty("templates").GetInt32());
    }

    /// <summary>
    /// <paramref name="path"/> is TorchSharp's native library with exactly one byte changed from the copy in the NuGet
    /// cache, and that byte gained the VER_FLG_WEAK bit (2): the package's build step ran on this copy, and only it.
    /// </summary>
    static void AssertWeakenedCopy(string path)
    {
        var patched = File.ReadAllBytes(path);
        var originals = Directory.GetFiles(Path.Combine(PackedPackages.NuGetPackagesFolder, "torchsharp"), "libLibTorchSharp.so", SearchOption.AllDirectories)
            .Where(f => f.Contains($"{Path.DirectorySeparatorChar}linux-x64{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllBytes).Where(b => b.Length == patched.Length).ToList();
        Assert.True(originals.Count > 0, $"no libLibTorchSharp.so of {patched.Length} bytes in the NuGet cache to compare {path} with");
        var original = originals[0];
        var changed = Enumerable.Range(0, patched.Length).Where(i => patched[i] != original[i]).ToList();
        Assert.True(changed.Count == 1, $"{path}: {changed.Count} bytes differ from the NuGet cache's copy, expected 1");
        Assert.Equal(original[changed[0]] | 2, patched[changed[0]]);
    }
}
