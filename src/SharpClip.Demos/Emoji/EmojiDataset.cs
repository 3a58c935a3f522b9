using System.Diagnostics;
using System.Text.Json;
using System.Text;
using SharpClip.Data;
using SharpClip.Demos.Fetching;
using SharpClip.Vision;

namespace SharpClip.Demos.Emoji;

/// <summary>
/// The built-in real image-text dataset: about 1,900 emoji with CLDR names, tags and keywords, drawn in eight art
/// styles. Training uses two styles (Google, Twitter); the others measure robustness to near (Apple, Facebook) and
/// far (OpenMoji, Fluent) distribution shift on the same concepts — a small, reproducible version of the CLIP
/// paper's distribution-shift study. Everything is fetched at run time from pinned npm packages and written as
/// ordinary SharpClip datasets (PNG files plus JSONL and path,label CSV), so every other verb reads it.
/// </summary>
/// <remarks>
/// Layout under the output folder:
/// <c>packages/*.tgz</c> (npm cache) · <c>images/&lt;style&gt;/&lt;codepoints&gt;.png</c> ·
/// <c>train.jsonl</c>, <c>val.jsonl</c> (training styles, several captions per image, skin variants included) ·
/// <c>test/&lt;style&gt;.jsonl</c> (retrieval: "an emoji of {label}", non-flag test identities) ·
/// <c>zeroshot/&lt;style&gt;/{groups,subgroups}-{train,val,test}.csv</c> (path,label) · <c>dataset.json</c> · <c>README.md</c>.
/// </remarks>
public static class EmojiDataset
{
    /// <summary>The pinned packages (versions checked in the datasets notes).</summary>
    public static readonly NpmPackage DataSource = new("emoji-datasource", "16.0.0");
    public static readonly NpmPackage Emojibase = new("emojibase-data", "17.0.0");
    public static readonly NpmPackage Emojilib = new("emojilib", "4.0.3");
    public static readonly NpmPackage OpenMojiPackage = new("openmoji", "17.0.0");
    public static readonly NpmPackage FluentFlatPackage = new("@iconify-json/fluent-emoji-flat", "1.2.6");
    public static readonly NpmPackage FluentHighContrastPackage = new("@iconify-json/fluent-emoji-high-contrast", "1.2.6");

    public static readonly IReadOnlyList<NpmPackage> Packages = [DataSource, Emojibase, Emojilib, OpenMojiPackage, FluentFlatPackage, FluentHighContrastPackage];

    /// <summary>Bumped when the pixels a run writes change, so cached images of an older recipe are redrawn.</summary>
    public const string RecipeVersion = "emoji-recipe-1";

    /// <summary><c>$XDG_CACHE_HOME/sharpclip/datasets/emoji</c> (default <c>~/.cache/...</c>): outside any repository.</summary>
    public static string DefaultDirectory =>
        Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "sharpclip", "datasets", "emoji");

    /// <summary>Zero-shot CSV of a style and task ("groups" or "subgroups") and split ("train", "val", "test").</summary>
    public static string ZeroShotCsv(string directory, string style, string task = "groups", string split = "test") =>
        Path.Combine(directory, "zeroshot", style, $"{task}-{split}.csv");

    /// <summary>Retrieval test set of a style: its test identities, one caption "an emoji of {name}" each.</summary>
    public static string TestJsonl(string directory, string style) => Path.Combine(directory, "test", style + ".jsonl");

    /// <summary>
    /// Fetches (or reuses) the packages, joins them, renders the missing images of every style and writes the
    /// dataset files. Reports progress per stage; a second run with the same options fetches and renders nothing.
    /// </summary>
    public static EmojiPrepareResult Prepare(EmojiPrepareOptions? options = null, IProgress<EmojiPrepareProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new EmojiPrepareOptions();
        if (options.ImageSize is < 8 or > 512) throw new ArgumentOutOfRangeException(nameof(options), $"ImageSize {options.ImageSize}: expected 8..512");
        var dir = Path.GetFullPath(options.Directory ?? DefaultDirectory);
        Directory.CreateDirectory(dir);
        var clock = Stopwatch.StartNew();

        var fetcher = new NpmFetcher(Path.Combine(dir, "packages"), options.NpmCommand);
        fetcher.Fetch(Packages, new Relay<(int Done, int Total, string Package)>(p => progress?.Report(new("fetch", p.Done, p.Total))), cancellationToken);
        var fetchTime = clock.Elapsed;

        SvgRasterizer.EnsureAvailable(); // fail before the long part, with the install hint
        var sources = ReadSources(fetcher, progress, cancellationToken);
        var readTime = clock.Elapsed - fetchTime;

        var catalog = sources.Catalog;
        var counts = new List<EmojiStyleCounts>();
        var available = new Dictionary<string, HashSet<string>>();
        foreach (var style in EmojiStyle.All)
        {
            var (written, c) = RenderStyle(dir, style, catalog, sources, options, progress, cancellationToken);
            available[style.Name] = written;
            counts.Add(c);
        }
        var renderTime = clock.Elapsed - fetchTime - readTime;

        progress?.Report(new("write", 0, 1));
        var (train, val) = WriteCaptionFiles(dir, catalog, available);
        var (groups, subgroups) = WriteZeroShotFiles(dir, catalog, available, options.SubgroupMinMembers);
        WriteRetrievalFiles(dir, catalog, available);
        var identities = catalog.Entries.Where(e => !e.IsSkinVariant).Select(e => e.GroupKey).Distinct().ToList();
        var result = new EmojiPrepareResult(dir, catalog.Entries.Count(e => !e.IsSkinVariant), identities.Count,
            identities.Count(k => EmojiCodes.SplitOf(k) == EmojiSplit.Test), train, val, counts, groups, subgroups, fetchTime, readTime, renderTime);
        WriteManifest(dir, result);
        progress?.Report(new("write", 1, 1));
        return result;
    }

    /// <summary>Everything read from the tarballs.</summary>
    sealed record Sources(EmojiCatalog Catalog, Dictionary<string, byte[]> Sheets, Dictionary<string, Dictionary<string, byte[]>> Svgs);

    static Sources ReadSources(NpmFetcher fetcher, IProgress<EmojiPrepareProgress>? progress, CancellationToken ct)
    {
        int step = 0, steps = 5;
        void Done() => progress?.Report(new("read", ++step, steps));
        var ds = NpmTarball.Read(fetcher.PathOf(DataSource), p => p == "emoji.json" || p.EndsWith("/sheets/32.png", StringComparison.Ordinal), ct);
        Done();
        var eb = NpmTarball.Read(fetcher.PathOf(Emojibase), p => p is "en/data.json" or "en/messages.json", ct);
        var el = NpmTarball.Read(fetcher.PathOf(Emojilib), p => p == "dist/emoji-en-US.json", ct);
        Done();
        byte[] Need(Dictionary<string, byte[]> files, string path, NpmPackage package) =>
            files.TryGetValue(path, out var b) ? b : throw new InvalidDataException($"{fetcher.PathOf(package)}: has no {path} (is {package} the pinned version?)");
        var catalog = EmojiCatalog.Join(Need(ds, "emoji.json", DataSource), Need(eb, "en/data.json", Emojibase), Need(eb, "en/messages.json", Emojibase),
            Need(el, "dist/emoji-en-US.json", Emojilib));
        var sheets = EmojiCatalog.SheetVendors.ToDictionary(v => v, v => Need(ds, $"img/{v}/sheets/32.png", DataSource));

        var svgs = new Dictionary<string, Dictionary<string, byte[]>>();
        var om = NpmTarball.Read(fetcher.PathOf(OpenMojiPackage), p => (p.StartsWith("color/svg/") || p.StartsWith("black/svg/")) && p.EndsWith(".svg"), ct);
        foreach (var (style, folder) in new[] { (EmojiStyle.OpenMoji, "color/svg/"), (EmojiStyle.OpenMojiBlack, "black/svg/") })
        {
            var byKey = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var (path, bytes) in om.Where(f => f.Key.StartsWith(folder)).OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                try { byKey.TryAdd(EmojiCodes.Normalize(Path.GetFileNameWithoutExtension(path)), bytes); }
                catch (FormatException) { } // a file name that is not code points: not an emoji
            }
            if (byKey.Count == 0) throw new InvalidDataException($"{fetcher.PathOf(OpenMojiPackage)}: no SVGs under {folder}");
            svgs[style.Name] = byKey;
        }
        Done();
        foreach (var (style, package) in new[] { (EmojiStyle.FluentFlat, FluentFlatPackage), (EmojiStyle.FluentHighContrast, FluentHighContrastPackage) })
        {
            var files = NpmTarball.Read(fetcher.PathOf(package), p => p is "icons.json" or "chars.json", ct);
            svgs[style.Name] = IconifySet.SvgsByCodePoints(Need(files, "icons.json", package), Need(files, "chars.json", package), package.Name)
                .ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetBytes(kv.Value), StringComparer.Ordinal);
            Done();
        }
        return new Sources(catalog, sheets, svgs);
    }

    /// <summary>The entries a style is drawn for: every emoji and skin variant for the training styles, base emoji for the others.</summary>
    static IEnumerable<EmojiEntry> Wanted(EmojiStyle style, EmojiCatalog catalog) =>
        style.Role == EmojiStyleRole.Training ? catalog.Entries : catalog.Entries.Where(e => !e.IsSkinVariant);

    public static string ImagePath(string dir, string style, string key) => Path.Combine(dir, "images", style, key + ".png");

    static (HashSet<string> Written, EmojiStyleCounts Counts) RenderStyle(string dir, EmojiStyle style, EmojiCatalog catalog, Sources sources,
        EmojiPrepareOptions options, IProgress<EmojiPrepareProgress>? progress, CancellationToken ct)
    {
        var folder = Path.Combine(dir, "images", style.Name);
        Directory.CreateDirectory(folder);
        var stampPath = Path.Combine(folder, "recipe.txt");
        var stamp = $"{RecipeVersion} size={options.ImageSize} svg={options.SvgRenderSize} {string.Join(" ", Packages)}";
        if (!File.Exists(stampPath) || File.ReadAllText(stampPath).Trim() != stamp)
        {
            foreach (var old in Directory.EnumerateFiles(folder, "*.png")) File.Delete(old); // drawn by another recipe
            File.WriteAllText(stampPath, stamp + "\n");
        }

        // Only the style's own art: sheet cells where has_img_<vendor> (not another vendor's fallback), or an SVG.
        var vendor = style.SheetVendor;
        var svgs = vendor is null ? sources.Svgs[style.Name] : null;
        var wanted = Wanted(style, catalog).Where(e => vendor is not null ? e.VendorArt.Contains(vendor) : svgs!.ContainsKey(e.Key)).ToList();
        var missing = wanted.Where(e => !File.Exists(ImagePath(dir, style.Name, e.Key))).ToList();
        DecodedImage? sheet = vendor is not null && missing.Count > 0 ? ImageDecoder.Decode(sources.Sheets[vendor], $"emoji-datasource img/{vendor}/sheets/32.png") : null;

        int done = 0, blank = 0;
        var stage = $"render {style.Name}";
        progress?.Report(new(stage, 0, missing.Count));
        Parallel.ForEach(missing, new ParallelOptions { MaxDegreeOfParallelism = options.Threads, CancellationToken = ct }, e =>
        {
            var raw = sheet is not null
                ? EmojiArt.SheetCellOnWhite(sheet, e.Sheet.X, e.Sheet.Y, $"{vendor} sheet")
                : SvgRasterizer.Render(svgs![e.Key], options.SvgRenderSize, $"{style.Name}/{e.Key}.svg");
            if (EmojiArt.IsBlank(raw)) { Interlocked.Increment(ref blank); return; }
            var path = ImagePath(dir, style.Name, e.Key);
            var tmp = path + ".tmp";
            File.WriteAllBytes(tmp, PngWriter.Encode(EmojiArt.CropAndPad(raw, options.ImageSize)));
            File.Move(tmp, path, overwrite: true); // atomic: an interrupted run never leaves a half-written PNG to reuse
            int d = Interlocked.Increment(ref done);
            if (d % 64 == 0) progress?.Report(new(stage, d, missing.Count));
        });
        progress?.Report(new(stage, missing.Count, missing.Count));

        var written = wanted.Where(e => File.Exists(ImagePath(dir, style.Name, e.Key))).Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        var bases = catalog.Entries.Where(e => !e.IsSkinVariant && written.Contains(e.Key)).ToList();
        var counts = new EmojiStyleCounts(style.Name, style.Role,
            bases.Count(e => e.Split == EmojiSplit.Train), bases.Count(e => e.Split == EmojiSplit.Validation), bases.Count(e => e.Split == EmojiSplit.Test),
            catalog.Entries.Count(e => e.IsSkinVariant && written.Contains(e.Key)),
            bases.Count(e => e.Split == EmojiSplit.Test && !e.IsFlag), missing.Count - blank, wanted.Count - missing.Count, blank);
        return (written, counts);
    }

    static string Rel(string style, string key, string prefix = "") => $"{prefix}images/{style}/{key}.png";

    /// <summary>train.jsonl and val.jsonl over the training styles; returns the sample counts.</summary>
    static (int Train, int Val) WriteCaptionFiles(string dir, EmojiCatalog catalog, Dictionary<string, HashSet<string>> available)
    {
        int Write(string file, EmojiSplit split)
        {
            int n = 0;
            using var w = new StreamWriter(Path.Combine(dir, file + ".tmp"), false, new UTF8Encoding(false));
            foreach (var style in EmojiStyle.All.Where(s => s.Role == EmojiStyleRole.Training))
                foreach (var e in catalog.Entries.Where(e => e.Split == split && available[style.Name].Contains(e.Key)))
                {
                    w.WriteLine(JsonSerializer.Serialize(new { image = Rel(style.Name, e.Key), captions = EmojiCaptions.For(e), label = e.Label, style = style.Name, group = e.Group, subgroup = e.Subgroup }));
                    n++;
                }
            w.Close();
            File.Move(Path.Combine(dir, file + ".tmp"), Path.Combine(dir, file), overwrite: true);
            return n;
        }
        return (Write("train.jsonl", EmojiSplit.Train), Write("val.jsonl", EmojiSplit.Validation));
    }

    /// <summary>test/&lt;style&gt;.jsonl: non-flag test identities, one query caption each, for text↔image retrieval.</summary>
    static void WriteRetrievalFiles(string dir, EmojiCatalog catalog, Dictionary<string, HashSet<string>> available)
    {
        Directory.CreateDirectory(Path.Combine(dir, "test"));
        foreach (var style in EmojiStyle.All)
        {
            var lines = catalog.Entries.Where(e => !e.IsSkinVariant && !e.IsFlag && e.Split == EmojiSplit.Test && available[style.Name].Contains(e.Key))
                .Select(e => JsonSerializer.Serialize(new { image = Rel(style.Name, e.Key, "../"), captions = new[] { EmojiCaptions.Query(e) }, label = e.Label }));
            File.WriteAllLines(TestJsonl(dir, style.Name), lines, new UTF8Encoding(false));
        }
    }

    /// <summary>
    /// Zero-shot path,label CSVs per style and split: the Unicode groups (flags left out: 8 classes) and the
    /// subgroups with enough members. The same classes for every style, so accuracies are comparable.
    /// </summary>
    static (List<string> Groups, List<string> Subgroups) WriteZeroShotFiles(string dir, EmojiCatalog catalog, Dictionary<string, HashSet<string>> available, int minMembers)
    {
        var bases = catalog.Entries.Where(e => !e.IsSkinVariant && !e.IsFlag && e.Group.Length > 0).ToList();
        var groups = bases.Select(e => e.Group).Distinct().ToList();
        var subgroups = bases.Where(e => e.Subgroup.Length > 0).GroupBy(e => e.Subgroup).Where(g => g.Count() >= minMembers).Select(g => g.Key).ToList();
        var subgroupSet = subgroups.ToHashSet();
        foreach (var style in EmojiStyle.All)
        {
            Directory.CreateDirectory(Path.Combine(dir, "zeroshot", style.Name));
            foreach (var (split, name) in new[] { (EmojiSplit.Train, "train"), (EmojiSplit.Validation, "val"), (EmojiSplit.Test, "test") })
            {
                var items = bases.Where(e => e.Split == split && available[style.Name].Contains(e.Key)).ToList();
                WriteCsv(ZeroShotCsv(dir, style.Name, "groups", name), items.Select(e => (Rel(style.Name, e.Key, "../../"), e.Group)));
                WriteCsv(ZeroShotCsv(dir, style.Name, "subgroups", name), items.Where(e => subgroupSet.Contains(e.Subgroup)).Select(e => (Rel(style.Name, e.Key, "../../"), e.Subgroup)));
            }
        }
        return (groups, subgroups);
    }

    static void WriteCsv(string path, IEnumerable<(string Path, string Label)> rows)
    {
        var sb = new StringBuilder("path,label\n");
        foreach (var (p, l) in rows) sb.Append(p).Append(',').Append(l.Contains(',') || l.Contains('"') ? $"\"{l.Replace("\"", "\"\"")}\"" : l).Append('\n');
        File.WriteAllText(path, sb.ToString(), new UTF8Encoding(false));
    }

    static void WriteManifest(string dir, EmojiPrepareResult r)
    {
        var json = JsonSerializer.Serialize(new
        {
            recipe = RecipeVersion,
            packages = Packages.Select(p => p.ToString()),
            emoji = r.Emoji,
            identities = r.Identities,
            testIdentities = r.TestIdentities,
            trainSamples = r.TrainSamples,
            validationSamples = r.ValidationSamples,
            groupClasses = r.GroupClasses,
            subgroupClasses = r.SubgroupClasses,
            styles = r.Styles.Select(s => new { s.Style, role = s.Role.ToString(), s.Train, s.Validation, s.Test, s.SkinVariants, s.ZeroShotTest, licence = EmojiStyle.Named(s.Style).Licence }),
        }, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });
        File.WriteAllText(Path.Combine(dir, "dataset.json"), json);
        var md = new StringBuilder("# Emoji across art styles (prepared by `sharpclip datasets prepare emoji`)\n\n");
        md.AppendLine("Pictures were fetched from npm at run time; do not redistribute this folder as a whole.\n");
        md.AppendLine("| style | role | source | licence |\n|---|---|---|---|");
        foreach (var s in EmojiStyle.All) md.AppendLine($"| {s.Name} | {s.Role} | {s.Origin} | {s.Licence} |");
        md.AppendLine("\nNames, tags and groups: emojibase-data (MIT, CLDR), keywords: emojilib (MIT), code points and sheets: emoji-datasource (MIT data).");
        File.WriteAllText(Path.Combine(dir, "README.md"), md.ToString());
    }
}
