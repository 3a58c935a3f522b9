using SharpClip.Data;
using System.Text.Json;
using SharpClip.Demos.Emoji;
using SharpClip.Demos.OpenClipart;
using SharpClip.Evaluation;
using SharpClip.Vision;
using SharpClip.Demos.Fetching;

namespace SharpClip.Tests.Demos.OpenClipart;

/// <summary>
/// The OpenClipart folder-class set on small hand-built SVG trees (no network: the real package is never fetched here).
/// </summary>
public class OpenClipartDatasetTests
{
    /// <summary>A page of 100 × 100 with one filled rectangle: drawings that render to something.</summary>
    static string Rect(string colour, int x = 10, int y = 10, int w = 80, int h = 80, int page = 100) =>
        $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{page}\" height=\"{page}\"><rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"{colour}\"/></svg>";

    static readonly OpenClipartClass Bird = new("bird", ["animals/birds"], Excluded: ["animals/birds/skip"]);
    static readonly OpenClipartClass Fish = new("fish", ["animals/fish"]);
    static readonly OpenClipartClass Mammal = new("mammal", ["animals/mammals"]);

    /// <summary>
    /// The package's quirks in miniature: a link to a file of the same class, a link to a file outside every class
    /// folder, a drawing linked into a second class, a broken link, two files with the same bytes, an excluded folder.
    /// </summary>
    static void WriteQuirkyTree(TempDir tmp)
    {
        tmp.File("svg/animals/birds/a.svg", Rect("#ff0000"));
        tmp.File("svg/animals/birds/sub/b.svg", Rect("#00ff00"));
        tmp.File("svg/animals/birds/skip/d.svg", Rect("#0000ff"));
        File.CreateSymbolicLink(tmp.Combine("svg/animals/birds/a_link.svg"), "a.svg");
        tmp.File("svg/animals/outside.svg", Rect("#00ffff"));
        tmp.File("svg/animals/fish/c.svg", Rect("#ff00ff"));
        tmp.File("svg/animals/fish/copy.svg", Rect("#ff00ff"));
        tmp.File("svg/animals/fish/orca.svg", Rect("#202020"));
        File.CreateSymbolicLink(tmp.Combine("svg/animals/fish/outside_link.svg"), "../outside.svg");
        File.CreateSymbolicLink(tmp.Combine("svg/animals/fish/broken.svg"), "nowhere.svg");
        Directory.CreateDirectory(tmp.Combine("svg/animals/mammals"));
        File.CreateSymbolicLink(tmp.Combine("svg/animals/mammals/orca.svg"), "../fish/orca.svg");
    }

    [Fact]
    public void Folders_are_labels_links_resolve_by_content_and_two_class_drawings_are_dropped()
    {
        using var tmp = new TempDir();
        WriteQuirkyTree(tmp);
        var c = OpenClipartCatalog.Scan(tmp.Combine("svg"), [Bird, Fish, Mammal], seed: 0);

        Assert.Equal(
            [("bird", "animals/birds/a.svg"), ("bird", "animals/birds/sub/b.svg"), ("fish", "animals/fish/c.svg"), ("fish", "animals/outside.svg")],
            c.Images.Select(i => (i.Class, i.Source)));
        Assert.Equal("animals__outside.png", c.Images.Single(i => i.Source == "animals/outside.svg").ImageName);
        Assert.Equal(tmp.Combine("svg/animals/outside.svg"), c.Images.Single(i => i.Source == "animals/outside.svg").FullPath);
        Assert.Equal(["animals/fish/orca.svg"], c.Ambiguous);       // filed under fish and (by link) mammal
        Assert.Equal(["animals/fish/broken.svg"], c.Unresolved);
        Assert.Equal((5, 4), (c.Files, c.Links));                    // skip/d.svg is not visited
        Assert.Equal(2, c.Duplicates);                               // a_link → a; copy.svg has c.svg's bytes
        Assert.Equal([new OpenClipartClassCount("bird", 2, 2), new("fish", 2, 2), new("mammal", 0, 0)], c.Classes);

        var missing = Assert.Throws<InvalidDataException>(() =>
            OpenClipartCatalog.Scan(tmp.Combine("svg"), [Bird, new OpenClipartClass("tree", ["plants/trees"])], 0));
        Assert.Contains("plants/trees", missing.Message);
    }

    [Fact]
    public void The_built_in_class_list_is_the_22_classes_with_distinct_folders()
    {
        var all = OpenClipartClasses.All;
        Assert.Equal(22, all.Count);
        Assert.Equal(all.Count, all.Select(c => c.FolderName).Distinct().Count());
        var folders = all.SelectMany(c => c.Folders).ToList();
        Assert.Equal(folders.Count, folders.Distinct().Count());
        // No class folder lies inside another's: a drawing's label must not depend on the order classes are read in.
        Assert.DoesNotContain(folders, f => folders.Any(g => g != f && f.StartsWith(g + "/", StringComparison.Ordinal)));
        Assert.Equal(60, all.Single(c => c.Name == "flag").Sample);
    }

    [Fact]
    public void Sampling_depends_only_on_seed_and_paths()
    {
        var paths = Enumerable.Range(0, 40).Select(i => $"flags/f{i:D2}.svg").ToList();
        var a = OpenClipartCatalog.Sample(paths, 10, seed: 0);
        Assert.Equal(10, a.Count);
        Assert.Equal(a, OpenClipartCatalog.Sample(paths, 10, seed: 0));
        Assert.Equal(a, OpenClipartCatalog.Sample(paths.AsEnumerable().Reverse().ToList(), 10, seed: 0)); // enumeration order is irrelevant
        Assert.Equal(a.Order(StringComparer.Ordinal), a);
        Assert.All(a, p => Assert.Contains(p, paths));
        Assert.NotEqual(a, OpenClipartCatalog.Sample(paths, 10, seed: 1));
        // A new file either makes the sample or leaves it exactly as it was.
        for (int extra = 0; extra < 20; extra++)
        {
            var more = OpenClipartCatalog.Sample([.. paths, $"flags/new{extra}.svg"], 10, seed: 0);
            Assert.True(more.SequenceEqual(a) || (more.Contains($"flags/new{extra}.svg") && more.Intersect(a).Count() == 9));
        }
    }

    [Fact]
    public void Capped_classes_keep_the_same_sample_on_every_scan()
    {
        using var tmp = new TempDir();
        for (int i = 0; i < 12; i++) tmp.File($"svg/flags/{(i % 2 == 0 ? "europe/" : "")}f{i}.svg", Rect("#" + (i * 20).ToString("x2") + "0000"));
        var flag = new OpenClipartClass("flag", ["flags"], Sample: 5);
        var first = OpenClipartCatalog.Scan(tmp.Combine("svg"), [flag, Bird with { Folders = ["flags/europe"] }], seed: 7);
        // (europe is both a flag sub-folder and "bird" here: every drawing in it is ambiguous and left out)
        Assert.Equal(6, first.Ambiguous.Count);
        Assert.Equal(new OpenClipartClassCount("flag", 6, 5), first.Classes[0]);
        var again = OpenClipartCatalog.Scan(tmp.Combine("svg"), [flag, Bird with { Folders = ["flags/europe"] }], seed: 7);
        Assert.Equal(first.Images.Select(i => i.Source), again.Images.Select(i => i.Source));
        var expected = OpenClipartCatalog.Sample(Enumerable.Range(0, 12).Where(i => i % 2 == 1).Select(i => $"flags/f{i}.svg").ToList(), 5, 7);
        Assert.Equal(expected, first.Images.Where(i => i.Class == "flag").Select(i => i.Source));
    }

    [Fact]
    public void Small_drawings_on_a_large_page_are_zoomed_to_fill_the_image()
    {
        // A 6 × 3 red bar in the corner of a 1000 px page: a full-page render at 64 px would give it under one pixel.
        var svg = System.Text.Encoding.UTF8.GetBytes(Rect("#ff0000", x: 20, y: 40, w: 6, h: 3, page: 1000));
        var img = OpenClipartArt.Draw(svg, 16, 64, "bar.svg")!;
        Assert.Equal((16, 16), (img.Width, img.Height));
        var ink = EmojiArt.InkBox(img)!.Value;
        Assert.True(ink.Width >= 15, $"ink {ink} should span the image"); // 2:1 bar: full width...
        Assert.InRange(ink.Height, 6, 11);                                // ...half the height, padded above and below
        var (r, g, b) = img[8, 8];
        Assert.True(r > 200 && g < 60 && b < 60, $"centre {(r, g, b)} should be red");
        Assert.Equal((255, 255, 255), img[8, 0]);
        Assert.Null(OpenClipartArt.Draw(System.Text.Encoding.UTF8.GetBytes("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>"), 16, 64, "empty.svg"));
    }

    [Fact]
    public void Prepare_writes_a_zero_shot_set_counts_failures_and_reuses_its_images()
    {
        using var tmp = new TempDir();
        WriteQuirkyTree(tmp);
        tmp.File("svg/animals/birds/broken.svg", "<svg");                                                              // librsvg cannot parse it
        tmp.File("svg/animals/birds/empty.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>"); // renders blank
        var options = new OpenClipartPrepareOptions
        {
            Directory = tmp.Combine("out"), Source = tmp.Combine("svg"), Classes = [Bird, Fish, Mammal], ImageSize = 24, SvgRenderSize = 48,
            AptCommand = "/nonexistent/apt-get", Threads = 2,
        };
        var stages = new List<string>();
        var r = OpenClipartDataset.Prepare(options, new SyncProgress<OpenClipartProgress>(p => stages.Add(p.Stage)));
        Assert.Equal(["fetch", "scan", "render", "write"], stages.Distinct());
        Assert.Null(r.PackageVersion); // an unpacked folder, not a .deb
        var bird = r.Classes.Single(c => c.Class == "bird");
        Assert.Equal((4, 2, 2, 0), (bird.Found, bird.Images, bird.Failed, bird.Reused));
        Assert.Equal(["animals/birds/broken.svg", "animals/birds/empty.svg"], r.Failures.Select(f => f.Source));
        Assert.Contains("broken.svg", r.Failures[0].Reason);
        Assert.Equal("renders blank", r.Failures[1].Reason);

        // The zero-shot readers take the CSV and the class-per-folder tree alike, with the same classes.
        var csv = LabeledDatasets.Open(r.CsvPath).Single();
        var tree = LabeledDatasets.Open(Path.Combine(r.Directory, "images")).Single();
        Assert.Equal(["bird", "fish"], csv.ClassNames); // mammal lost its only drawing as ambiguous
        Assert.Equal(csv.ClassNames, tree.ClassNames);
        Assert.Equal(4, csv.Items.Count);
        Assert.Equal(csv.Labels, tree.Labels);
        var png = ImageDecoder.Decode(Path.Combine(r.Directory, "images", "bird", "animals__birds__a.png")).ToRgb();
        Assert.Equal((24, 24), (png.Width, png.Height));
        Assert.Equal((255, 0, 0), png[12, 12]);
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(r.Directory, "dataset.json"))))
        {
            Assert.Contains("public domain", manifest.RootElement.GetProperty("licence").GetString());
            Assert.Equal(2, manifest.RootElement.GetProperty("failures").GetArrayLength());
        }
        Assert.Contains("openclipart.org", File.ReadAllText(Path.Combine(r.Directory, "README.md")));
        var wild = EmojiStyleSets.OpenWild(r.Directory); // what `eval robustness --wild DIR` opens
        Assert.Equal(("openclipart", RobustnessEvaluator.WildRole), (wild.Style, wild.Role));
        Assert.Equal(csv.Labels, wild.Dataset.Labels);

        var again = OpenClipartDataset.Prepare(options);
        Assert.Equal((0, 4), (again.Classes.Sum(c => c.Rendered), again.Classes.Sum(c => c.Reused)));
        Assert.Equal(2, again.Failures.Count);

        // Another recipe (image size) redraws everything; nothing of the old one is left in the tree.
        var bigger = OpenClipartDataset.Prepare(options with { ImageSize = 32 });
        Assert.Equal(4, bigger.Classes.Sum(c => c.Rendered));
        Assert.All(LabeledDatasets.FromFolderTree(Path.Combine(r.Directory, "images")).Items,
            i => Assert.Equal(32, ImageDecoder.ReadHeader(((SharpClip.Data.ImageFile)i.Image).Path).Width));
    }

    [Fact]
    public void A_cached_deb_is_unpacked_and_reused_without_running_apt()
    {
        using var tmp = new TempDir();
        // A tiny package with the real one's layout, built with dpkg-deb (the tool Prepare unpacks with).
        var pkg = tmp.Combine("pkg");
        Directory.CreateDirectory(Path.Combine(pkg, "DEBIAN"));
        File.WriteAllText(Path.Combine(pkg, "DEBIAN", "control"), "Package: openclipart-svg\nVersion: 1:0.0-test\nArchitecture: all\nMaintainer: t <t@t>\nDescription: test\n");
        tmp.File("pkg/usr/share/openclipart/svg/animals/birds/a.svg", Rect("#ff0000"));
        tmp.File("pkg/usr/share/openclipart/svg/animals/fish/c.svg", Rect("#0000ff"));
        var cache = tmp.Combine("out/packages");
        Directory.CreateDirectory(cache);
        var deb = Path.Combine(cache, "openclipart-svg_1%3a0.0-test_all.deb");
        var build = SharpClip.Demos.Fetching.ExternalCommand.Run("dpkg-deb", ["--build", "--root-owner-group", "-Znone", pkg, deb], tmp.Path);
        Assert.True(build.ExitCode == 0, build.StandardError);

        var options = new OpenClipartPrepareOptions { Directory = tmp.Combine("out"), Classes = [Bird, Fish], AptCommand = "/nonexistent/apt-get", Threads = 1 };
        var r = OpenClipartDataset.Prepare(options);
        Assert.Equal("1:0.0-test", r.PackageVersion);
        Assert.Equal(2, r.Images);
        var extracted = Path.Combine(cache, "openclipart-svg_1%3a0.0-test_all");
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(extracted, ".extracted"));
        var again = OpenClipartDataset.Prepare(options);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(extracted, ".extracted"))); // not unpacked twice
        Assert.Equal(2, again.Classes.Sum(c => c.Reused));
    }

    [Fact]
    public void Apt_failures_say_what_to_run()
    {
        using var tmp = new TempDir();
        var missing = Assert.Throws<InvalidOperationException>(() => new DebianPackageFetcher(tmp.Path, "/nonexistent/apt-get").Download("openclipart-svg"));
        Assert.Contains("Debian or Ubuntu", missing.Message);
        Assert.Contains(tmp.Path, missing.Message);

        // An apt that knows no such package: what a container without package lists answers.
        var apt = tmp.File("fake-apt", "#!/bin/sh\necho 'E: Unable to locate package openclipart-svg' >&2\nexit 100\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(apt, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var stale = Assert.Throws<InvalidOperationException>(() => new DebianPackageFetcher(tmp.Combine("cache"), apt).Download("openclipart-svg"));
        Assert.Contains("sudo apt-get update", stale.Message);
        Assert.Contains("Unable to locate package", stale.Message);
        Assert.Empty(Directory.GetDirectories(tmp.Combine("cache"))); // the scratch folder is gone

        Assert.Equal("1:0.18+dfsg-19", DebianPackageFetcher.VersionOf("/x/openclipart-svg_1%3a0.18+dfsg-19_all.deb"));
        Assert.Null(DebianPackageFetcher.VersionOf("/x/something.deb"));
    }

    sealed class SyncProgress<T>(Action<T> a) : IProgress<T>
    {
        public void Report(T value) => a(value);
    }
}
