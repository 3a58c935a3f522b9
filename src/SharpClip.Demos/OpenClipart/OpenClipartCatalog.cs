using System.Security.Cryptography;
using SharpClip.Data;

namespace SharpClip.Demos.OpenClipart;

/// <summary>One drawing kept for the dataset.</summary>
/// <param name="Class">Its label (an <see cref="OpenClipartClass.Name"/>).</param>
/// <param name="Source">Path of the drawing relative to the SVG root, '/'-separated (a real file, never a link).</param>
/// <param name="FullPath">The SVG on disk.</param>
/// <param name="ImageName">The PNG file name inside the class folder: <c>Source</c> with '/' as "__", unique per class.</param>
public sealed record OpenClipartImage(string Class, string Source, string FullPath, string ImageName);

/// <summary>Per class: distinct drawings found under its folders, and how many the sample kept.</summary>
public sealed record OpenClipartClassCount(string Class, int Found, int Kept);

/// <summary>
/// The drawings of each class, read from an unpacked <c>openclipart-svg</c> tree. Folders are the labels. The package
/// files some drawings twice (663 symbolic links, mostly to a parent folder, sometimes into another class), so a
/// drawing's identity is its content: paths with the same bytes are one image; one reachable from the folders of two
/// classes has no single label and is left out (counted as ambiguous). Classes with a cap are sampled by a seeded
/// hash of each path, which does not depend on enumeration order or on which other files exist.
/// </summary>
public sealed class OpenClipartCatalog
{
    OpenClipartCatalog(IReadOnlyList<OpenClipartImage> images, IReadOnlyList<OpenClipartClassCount> classes, int files, int links,
        int duplicates, IReadOnlyList<string> ambiguous, IReadOnlyList<string> unresolved)
    {
        Images = images;
        Classes = classes;
        Files = files;
        Links = links;
        Duplicates = duplicates;
        Ambiguous = ambiguous;
        Unresolved = unresolved;
    }

    /// <summary>The kept drawings, ordered by class folder name then source path (ordinal).</summary>
    public IReadOnlyList<OpenClipartImage> Images { get; }

    /// <summary>Per class, in the order of the class list given to <see cref="Scan"/>.</summary>
    public IReadOnlyList<OpenClipartClassCount> Classes { get; }

    /// <summary>SVG paths visited under the class folders that are regular files / symbolic links.</summary>
    public int Files { get; }
    public int Links { get; }

    /// <summary>Paths dropped because another path of the same class has the same content (mostly links).</summary>
    public int Duplicates { get; }

    /// <summary>Drawings (source paths) reachable from more than one class: no single label, left out.</summary>
    public IReadOnlyList<string> Ambiguous { get; }

    /// <summary>Links whose target is missing, loops, or lies outside the SVG root: left out.</summary>
    public IReadOnlyList<string> Unresolved { get; }

    /// <summary>
    /// Walks the folders of every class under <paramref name="svgRoot"/>. A class folder that does not exist throws
    /// <see cref="InvalidDataException"/> naming it: the class list was written for a particular package layout.
    /// </summary>
    public static OpenClipartCatalog Scan(string svgRoot, IReadOnlyList<OpenClipartClass> classes, int seed, CancellationToken cancellationToken = default)
    {
        var root = Path.GetFullPath(svgRoot);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{root}: no such folder (expected the openclipart svg folder)");
        if (classes.Select(c => c.FolderName).Distinct(StringComparer.Ordinal).Count() != classes.Count)
            throw new ArgumentException("class names must be distinct (as folder names)", nameof(classes));

        int files = 0, links = 0;
        var unresolved = new List<string>();
        // content hash → (classes reaching it, real source paths holding it)
        var byContent = new Dictionary<string, (HashSet<string> Classes, SortedSet<string> Sources)>(StringComparer.Ordinal);
        var pathsPerClass = classes.ToDictionary(c => c.Name, _ => 0, StringComparer.Ordinal);
        var hashOfReal = new Dictionary<string, string>(StringComparer.Ordinal);

        foreach (var cls in classes)
        {
            foreach (var folder in cls.Folders)
            {
                var dir = Path.Combine(root, folder);
                if (!Directory.Exists(dir))
                    throw new InvalidDataException($"{root}: class '{cls.Name}' names folder '{folder}', which does not exist (is this the openclipart-svg 0.18 layout?)");
                var options = new EnumerationOptions { RecurseSubdirectories = true, MatchCasing = MatchCasing.CaseInsensitive };
                foreach (var path in Directory.EnumerateFiles(dir, "*.svg", options).Order(StringComparer.Ordinal))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var rel = Relative(root, path);
                    if (cls.Excluded?.Any(x => rel.StartsWith(x.TrimEnd('/') + "/", StringComparison.Ordinal)) == true) continue;
                    string real = path;
                    if (new FileInfo(path).LinkTarget is not null)
                    {
                        links++;
                        if (Resolve(root, path) is not { } target) { unresolved.Add(rel); continue; }
                        real = target;
                    }
                    else files++;
                    var realRel = Relative(root, real);
                    if (!hashOfReal.TryGetValue(realRel, out var hash))
                        hashOfReal[realRel] = hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(real)));
                    if (!byContent.TryGetValue(hash, out var entry)) byContent[hash] = entry = (new(StringComparer.Ordinal), new(StringComparer.Ordinal));
                    entry.Classes.Add(cls.Name);
                    entry.Sources.Add(realRel);
                    pathsPerClass[cls.Name]++;
                }
            }
        }

        var ambiguous = byContent.Values.Where(e => e.Classes.Count > 1).Select(e => e.Sources.Min!).Order(StringComparer.Ordinal).ToList();
        var single = byContent.Values.Where(e => e.Classes.Count == 1).Select(e => (Class: e.Classes.First(), Source: e.Sources.Min!)).ToList();
        int duplicates = pathsPerClass.Values.Sum() - byContent.Values.Sum(e => e.Classes.Count);

        var images = new List<OpenClipartImage>();
        var counts = new List<OpenClipartClassCount>();
        foreach (var cls in classes.OrderBy(c => c.FolderName, StringComparer.Ordinal))
        {
            var found = single.Where(s => s.Class == cls.Name).Select(s => s.Source).Order(StringComparer.Ordinal).ToList();
            IReadOnlyList<string> kept = cls.Sample is { } cap && found.Count > cap ? Sample(found, cap, seed) : found;
            counts.Add(new OpenClipartClassCount(cls.Name, found.Count, kept.Count));
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var source in kept)
            {
                var stem = Path.ChangeExtension(source.Replace("/", "__", StringComparison.Ordinal), null);
                var name = stem + ".png";
                for (int k = 2; !names.Add(name); k++) name = $"{stem}-{k}.png"; // "a__b/c" and "a/b__c" would collide
                images.Add(new OpenClipartImage(cls.Name, source, Path.Combine(root, source), name));
            }
        }
        var order = classes.Select(c => c.Name).ToList();
        return new OpenClipartCatalog(images, counts.OrderBy(c => order.IndexOf(c.Class)).ToList(), files, links, duplicates, ambiguous, unresolved);
    }

    /// <summary>
    /// The <paramref name="count"/> paths with the smallest seeded hash, in path order. Each path's rank depends only
    /// on (seed, path), so the sample is reproducible and a file added to the folder cannot reshuffle the others.
    /// </summary>
    public static IReadOnlyList<string> Sample(IReadOnlyList<string> paths, int count, int seed) =>
        paths.Distinct(StringComparer.Ordinal).OrderBy(p => StableHash.Of($"{seed}\u0001{p}")).ThenBy(p => p, StringComparer.Ordinal)
            .Take(count).Order(StringComparer.Ordinal).ToList();

    /// <summary>A link's final target when it exists and lies inside <paramref name="root"/>; else null.</summary>
    static string? Resolve(string root, string link)
    {
        try
        {
            var target = File.ResolveLinkTarget(link, returnFinalTarget: true);
            if (target is null || !target.Exists) return null;
            var full = Path.GetFullPath(target.FullName);
            return full.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? full : null;
        }
        catch (IOException) { return null; } // a loop of links
    }

    static string Relative(string root, string path) => Path.GetRelativePath(root, path).Replace('\\', '/');
}
