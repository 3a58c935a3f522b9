using SharpClip.Data;

namespace SharpClip.Demos.OpenClipart;

/// <summary>
/// One class of the OpenClipart set: the package folders (relative to <c>usr/share/openclipart/svg</c>, each taken with
/// its sub-folders) whose drawings carry this label, sub-folders left out, and an optional cap on how many images are
/// kept (sampled deterministically, so one huge folder does not dominate the balanced accuracy).
/// </summary>
/// <param name="Name">The label as prompts read it ("musical instrument"); the image folder is the name with '_' for ' '.</param>
/// <param name="Folders">Package folders, '/'-separated, relative to the SVG root; sub-folders included.</param>
/// <param name="Excluded">Sub-folders of those left out.</param>
/// <param name="Sample">Keep at most this many drawings, chosen by <see cref="OpenClipartCatalog.Sample"/>.</param>
public sealed record OpenClipartClass(string Name, IReadOnlyList<string> Folders, IReadOnlyList<string>? Excluded = null, int? Sample = null)
{
    /// <summary>The class-per-folder directory name: spaces as underscores (read back as spaces by the folder reader).</summary>
    public string FolderName => Name.Replace(' ', '_');
}

/// <summary>
/// The 22 folder classes of the datasets notes, written down once. The package's own folders are the labels: its
/// titles and keywords are too noisy (collection names, Italian, author names) to name a picture.
/// </summary>
/// <remarks>
/// Chosen by reading the tree of Debian's <c>openclipart-svg</c> 1:0.18+dfsg-19: concepts an emoji model has seen
/// (animals, food, plants, objects, symbols) with at least ~10 drawings each. Folders are noisy in places
/// (recreation/music also holds notes, records and composers; computer/hardware holds printers and hubs) — the label
/// is still the maintainers' filing, which is what makes this an honest "wild" test rather than a curated one.
/// Left out on purpose: <c>signs_and_symbols/flags/semaphore</c> (people signalling with flags, not flags), and the
/// other 500-odd flags beyond a sample of 60.
/// </remarks>
public static class OpenClipartClasses
{
    public static IReadOnlyList<OpenClipartClass> All { get; } =
    [
        new("bird", ["animals/birds"]),
        new("bug", ["animals/bugs"]),
        new("fish", ["animals/fish"]),
        new("mammal", ["animals/mammals"]),
        new("dinosaur", ["animals/dinosaurs"]),
        new("fruit", ["food/fruit"]),
        new("vegetable", ["food/vegetables"]),
        new("dessert", ["food/desserts"]),
        new("drink", ["food/beverages"]),
        new("flower", ["plants/flowers"]),
        new("tree", ["plants/trees"]),
        new("musical instrument", ["recreation/music"]),
        new("weather", ["signs_and_symbols/weather"]),
        new("clock", ["signs_and_symbols/clocks"]),
        new("flag", ["signs_and_symbols/flags"], Excluded: ["signs_and_symbols/flags/semaphore"], Sample: 60),
        new("smiley face", ["people/smilies"]),
        new("house", ["buildings/homes"]),
        new("telephone", ["office/telephone"]),
        new("book", ["education/books"]),
        new("light bulb", ["electronics/bulb"]),
        new("clothing", ["people/clothing"]),
        new("computer", ["computer/hardware"]),
    ];
}
