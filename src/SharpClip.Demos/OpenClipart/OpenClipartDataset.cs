using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text;
using SharpClip.Data;
using SharpClip.Demos.Emoji;
using SharpClip.Demos.Fetching;
using SharpClip.Vision;

namespace SharpClip.Demos.OpenClipart;

/// <summary>
/// A harder, out-of-domain test for models trained on the emoji styles: about 900 public-domain clipart drawings from
/// Debian's <c>openclipart-svg</c>, labelled by the package's folders (22 classes: bird, fruit, clock, flag, ...),
/// drawn at the emoji images' scale. Different artists, line weights and levels of detail per class, and a class set
/// of its own — so it is reported as its own "wild" column with balanced accuracy (classes are unbalanced).
/// </summary>
/// <remarks>
/// Layout under the output folder: <c>packages/openclipart-svg_*.deb</c> and its unpacked tree (cache) ·
/// <c>images/&lt;class&gt;/&lt;source path with / as __&gt;.png</c> (a class-per-folder tree) ·
/// <c>openclipart.csv</c> (path,label,source — what <c>eval zeroshot --data</c> reads) · <c>dataset.json</c> · <c>README.md</c>.
/// </remarks>
public static class OpenClipartDataset
{
    /// <summary>The Debian package (version not pinned: apt picks its candidate; the version used is recorded).</summary>
    public const string Package = "openclipart-svg";

    /// <summary>Where the package puts its SVGs, relative to the unpacked root.</summary>
    public const string SvgFolderInPackage = "usr/share/openclipart/svg";

    /// <summary>Bumped when the pixels a run writes change, so cached images of an older recipe are redrawn.</summary>
    public const string RecipeVersion = "openclipart-recipe-1";

    /// <summary>The CSV of (path, label, source) in a prepared folder.</summary>
    public const string CsvName = "openclipart.csv";

    public const string Licence = "public domain (Creative Commons Public Domain Dedication, as shipped by Debian's openclipart-svg)";
    public const string Attribution = "Clipart from the Open Clip Art Library, https://openclipart.org (authors named in each SVG's metadata)";

    /// <summary>A sibling of the emoji dataset: <c>$XDG_CACHE_HOME/sharpclip/datasets/openclipart</c>.</summary>
    public static string DefaultDirectory => Path.Combine(Path.GetDirectoryName(EmojiDataset.DefaultDirectory)!, "openclipart");

    /// <summary>The CSV of a prepared folder.</summary>
    public static string CsvPath(string directory) => Path.Combine(directory, CsvName);

    /// <summary>True when <paramref name="directory"/> holds a prepared OpenClipart dataset.</summary>
    public static bool IsPrepared(string directory) => File.Exists(CsvPath(directory));

    /// <summary>
    /// Fetches (or reuses) the package, reads the class folders, renders the images that are not cached and writes
    /// the dataset files. Drawings librsvg cannot render are counted and listed, not fatal.
    /// </summary>
    public static OpenClipartPrepareResult Prepare(OpenClipartPrepareOptions? options = null, IProgress<OpenClipartProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new OpenClipartPrepareOptions();
        if (options.ImageSize is < 8 or > 512) throw new ArgumentOutOfRangeException(nameof(options), $"ImageSize {options.ImageSize}: expected 8..512");
        if (options.SvgRenderSize < options.ImageSize) throw new ArgumentOutOfRangeException(nameof(options), $"SvgRenderSize {options.SvgRenderSize}: expected at least ImageSize {options.ImageSize}");
        var dir = Path.GetFullPath(options.Directory ?? DefaultDirectory);
        Directory.CreateDirectory(dir);
        var clock = Stopwatch.StartNew();

        progress?.Report(new("fetch", 0, 2));
        var (svgRoot, version) = Locate(dir, options, progress, cancellationToken);
        progress?.Report(new("fetch", 2, 2));
        var fetchTime = clock.Elapsed;

        SvgRasterizer.EnsureAvailable(); // fail before the long part, with the install hint
        progress?.Report(new("scan", 0, 1));
        var catalog = OpenClipartCatalog.Scan(svgRoot, options.Classes, options.Seed, cancellationToken);
        progress?.Report(new("scan", 1, 1));
        var scanTime = clock.Elapsed - fetchTime;

        var (classes, failures) = Render(dir, catalog, version ?? $"folder {svgRoot}", options, progress, cancellationToken);
        var renderTime = clock.Elapsed - fetchTime - scanTime;

        progress?.Report(new("write", 0, 1));
        var result = new OpenClipartPrepareResult(dir, CsvPath(dir), version, svgRoot, classes, failures,
            catalog.Files, catalog.Links, catalog.Duplicates, catalog.Ambiguous.Count, catalog.Unresolved.Count, fetchTime, scanTime, renderTime);
        WriteCsv(dir, catalog);
        WriteManifest(dir, result, catalog, options);
        progress?.Report(new("write", 1, 1));
        return result;
    }

    /// <summary>The SVG root and package version: from <see cref="OpenClipartPrepareOptions.Source"/>, else apt's .deb (cached).</summary>
    static (string SvgRoot, string? Version) Locate(string dir, OpenClipartPrepareOptions options, IProgress<OpenClipartProgress>? progress, CancellationToken ct)
    {
        var fetcher = new DebianPackageFetcher(Path.Combine(dir, "packages"), options.AptCommand, options.DpkgDebCommand);
        string deb;
        if (options.Source is { } source)
        {
            if (Directory.Exists(source))
            {
                var inside = Path.Combine(source, SvgFolderInPackage);
                return (Path.GetFullPath(Directory.Exists(inside) ? inside : source), null);
            }
            if (!File.Exists(source)) throw new FileNotFoundException($"{source}: no such folder or .deb (expected an unpacked openclipart svg folder or {Package}_*.deb)", source);
            deb = source;
        }
        else deb = fetcher.Download(Package, ct);
        progress?.Report(new("fetch", 1, 2));
        var root = Path.Combine(fetcher.Extract(deb, ct), SvgFolderInPackage);
        if (!Directory.Exists(root)) throw new InvalidDataException($"{deb}: has no {SvgFolderInPackage} (is it {Package}?)");
        return (root, DebianPackageFetcher.VersionOf(deb));
    }

    /// <summary>The PNG of <paramref name="image"/> in a prepared folder.</summary>
    public static string ImagePath(string dir, OpenClipartImage image) =>
        Path.Combine(dir, "images", image.Class.Replace(' ', '_'), image.ImageName);

    static (List<OpenClipartClassResult>, List<OpenClipartFailure>) Render(string dir, OpenClipartCatalog catalog, string sourceId,
        OpenClipartPrepareOptions options, IProgress<OpenClipartProgress>? progress, CancellationToken ct)
    {
        var images = Path.Combine(dir, "images");
        Directory.CreateDirectory(images);
        var stampPath = Path.Combine(images, "recipe.txt");
        var stamp = $"{RecipeVersion} size={options.ImageSize} svg={options.SvgRenderSize} source={sourceId}";
        bool sameRecipe = File.Exists(stampPath) && File.ReadAllText(stampPath).Trim() == stamp;
        // Anything not wanted now goes: drawn by another recipe, sampled out under another seed, or left half-written.
        var wanted = catalog.Images.Select(i => ImagePath(dir, i)).ToHashSet(StringComparer.Ordinal);
        foreach (var old in Directory.EnumerateFiles(images, "*", SearchOption.AllDirectories))
            if (old != stampPath && (!sameRecipe || !wanted.Contains(old))) File.Delete(old);
        File.WriteAllText(stampPath, stamp + "\n");

        var missing = catalog.Images.Where(i => !File.Exists(ImagePath(dir, i))).ToList();
        var failures = new ConcurrentBag<OpenClipartFailure>();
        int done = 0;
        progress?.Report(new("render", 0, missing.Count));
        Parallel.ForEach(missing, new ParallelOptions { MaxDegreeOfParallelism = options.Threads, CancellationToken = ct }, image =>
        {
            try
            {
                var drawn = OpenClipartArt.Draw(File.ReadAllBytes(image.FullPath), options.ImageSize, options.SvgRenderSize, image.Source);
                if (drawn is null) failures.Add(new(image.Class, image.Source, "renders blank"));
                else
                {
                    var path = ImagePath(dir, image);
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    var tmp = path + ".tmp";
                    File.WriteAllBytes(tmp, PngWriter.Encode(drawn));
                    File.Move(tmp, path, overwrite: true); // atomic: an interrupted run never leaves a half-written PNG to reuse
                }
            }
            catch (InvalidDataException e) { failures.Add(new(image.Class, image.Source, e.Message)); }
            int d = Interlocked.Increment(ref done);
            if (d % 32 == 0) progress?.Report(new("render", d, missing.Count));
        });
        progress?.Report(new("render", missing.Count, missing.Count));

        var failed = failures.OrderBy(f => f.Class, StringComparer.Ordinal).ThenBy(f => f.Source, StringComparer.Ordinal).ToList();
        var missingSet = missing.ToHashSet();
        var classes = catalog.Classes.Select(c =>
        {
            var mine = catalog.Images.Where(i => i.Class == c.Class).ToList();
            int fails = failed.Count(f => f.Class == c.Class);
            int rendered = mine.Count(i => missingSet.Contains(i)) - fails;
            return new OpenClipartClassResult(c.Class, c.Found, c.Kept, rendered, mine.Count - mine.Count(i => missingSet.Contains(i)), fails);
        }).ToList();
        return (classes, failed);
    }

    /// <summary>openclipart.csv: path,label,source for every written PNG, by class folder then source path.</summary>
    static void WriteCsv(string dir, OpenClipartCatalog catalog)
    {
        var sb = new StringBuilder("path,label,source\n");
        foreach (var i in catalog.Images.Where(i => File.Exists(ImagePath(dir, i))))
            sb.Append(Field($"images/{i.Class.Replace(' ', '_')}/{i.ImageName}")).Append(',').Append(Field(i.Class)).Append(',').Append(Field(i.Source)).Append('\n');
        var path = CsvPath(dir);
        File.WriteAllText(path + ".tmp", sb.ToString(), new UTF8Encoding(false));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    static string Field(string s) => s.Contains(',') || s.Contains('"') ? $"\"{s.Replace("\"", "\"\"")}\"" : s;

    static void WriteManifest(string dir, OpenClipartPrepareResult r, OpenClipartCatalog catalog, OpenClipartPrepareOptions options)
    {
        var json = JsonSerializer.Serialize(new
        {
            recipe = RecipeVersion,
            package = Package,
            version = r.PackageVersion,
            imageSize = options.ImageSize,
            svgRenderSize = options.SvgRenderSize,
            seed = options.Seed,
            licence = Licence,
            attribution = Attribution,
            images = r.Images,
            classes = options.Classes.Select(c =>
            {
                var counts = r.Classes.Single(x => x.Class == c.Name);
                return new { name = c.Name, folders = c.Folders, excluded = c.Excluded ?? [], sample = c.Sample, found = counts.Found, images = counts.Images, failed = counts.Failed };
            }),
            files = r.Files,
            links = r.Links,
            duplicates = r.Duplicates,
            ambiguous = catalog.Ambiguous,
            unresolved = catalog.Unresolved,
            failures = r.Failures,
        }, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });
        File.WriteAllText(Path.Combine(dir, "dataset.json"), json);

        var md = new StringBuilder("# OpenClipart folder classes (prepared by `sharpclip datasets prepare openclipart`)\n\n");
        md.AppendLine($"{r.Images} drawings in {r.Classes.Count} classes from Debian's `{Package}` {r.PackageVersion ?? "(unpacked folder)"}, " +
            $"labelled by the package's folders, rendered with librsvg, cropped to their ink, padded square on white, {options.ImageSize} px.");
        md.AppendLine($"A \"wild\" test for the emoji-trained models: a class set of its own (chance {1.0 / Math.Max(1, r.Classes.Count):P1}), unbalanced, so report balanced accuracy (mean per-class recall).\n");
        md.AppendLine($"Licence: {Licence}. {Attribution}.\n");
        md.AppendLine("Use: `sharpclip eval zeroshot --data openclipart.csv ...` (or `--data images`), or `sharpclip eval robustness --data-root <emoji> --wild openclipart=<this folder> ...`.\n");
        md.AppendLine("| class | package folders | found | images | failed |\n|---|---|---:|---:|---:|");
        foreach (var c in options.Classes)
        {
            var n = r.Classes.Single(x => x.Class == c.Name);
            var folders = string.Join(", ", c.Folders.Select(f => $"`{f}`")) + (c.Excluded is { Count: > 0 } ex ? " minus " + string.Join(", ", ex.Select(f => $"`{f}`")) : "")
                + (c.Sample is { } s ? $" (sample of {s}, seed {options.Seed})" : "");
            md.AppendLine($"| {c.Name} | {folders} | {n.Found} | {n.Images} | {n.Failed} |");
        }
        md.AppendLine($"\nSymbolic links resolved: {r.Links} (plus {r.Files} files); {r.Duplicates} duplicate paths merged; {r.Ambiguous} drawings filed under two classes left out; {r.Unresolved} broken links.");
        File.WriteAllText(Path.Combine(dir, "README.md"), md.ToString());
    }
}
