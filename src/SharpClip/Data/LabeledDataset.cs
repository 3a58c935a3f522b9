using System.Security.Cryptography;
using System.Text;

namespace SharpClip.Data;

/// <summary>One evaluation image and its class.</summary>
/// <param name="Key">Stable identity (relative path, synthetic key); part of the feature-cache key.</param>
/// <param name="Image">Where the pixels come from.</param>
/// <param name="Label">Index into the dataset's class names.</param>
public sealed record LabeledImage(string Key, ImageSource Image, int Label);

/// <summary>
/// A classification test set: images with labels, the class names, and optionally each class's own prompts (the
/// synthetic tasks describe classes with several phrasings rather than one name in templates).
/// </summary>
public sealed class LabeledDataset
{
    public LabeledDataset(string name, IReadOnlyList<string> classNames, IReadOnlyList<LabeledImage> items,
        IReadOnlyList<IReadOnlyList<string>>? classPrompts = null)
    {
        if (classNames.Count < 2) throw new ArgumentException($"{name}: needs at least two classes, has {classNames.Count}");
        if (items.Count == 0) throw new ArgumentException($"{name}: has no images");
        if (classPrompts is not null && classPrompts.Count != classNames.Count)
            throw new ArgumentException($"{name}: {classPrompts.Count} prompt lists for {classNames.Count} classes");
        var bad = items.FirstOrDefault(i => i.Label < 0 || i.Label >= classNames.Count);
        if (bad is not null) throw new ArgumentException($"{name}: item '{bad.Key}' has label {bad.Label} outside 0..{classNames.Count - 1}");
        Name = name;
        ClassNames = classNames;
        Items = items;
        ClassPrompts = classPrompts;
    }

    public string Name { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public IReadOnlyList<LabeledImage> Items { get; }

    /// <summary>Per class, prompts to embed and average; null means "fill the templates with the class name".</summary>
    public IReadOnlyList<IReadOnlyList<string>>? ClassPrompts { get; }

    public int[] Labels => Items.Select(i => i.Label).ToArray();

    /// <summary>SHA-256 of the keys, sources and labels: what a feature cache must match to be reused.</summary>
    public string Identity
    {
        get
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var item in Items)
                sha.AppendData(Encoding.UTF8.GetBytes($"{item.Key}\u0001{item.Image.Describe()}\u0001{item.Label}\n"));
            return Convert.ToHexStringLower(sha.GetHashAndReset());
        }
    }

    /// <summary>
    /// The same images, named <paramref name="name"/>, with labels re-indexed into <paramref name="classes"/> by name (a
    /// superset of this set's classes, e.g. one list shared by several sets); items keep their order.
    /// </summary>
    public LabeledDataset OnClasses(IReadOnlyList<string> classes, string? name = null)
    {
        var index = classes.Select((c, i) => (c, i)).ToDictionary(t => t.c, t => t.i, StringComparer.Ordinal);
        var missing = ClassNames.FirstOrDefault(c => !index.ContainsKey(c));
        if (missing is not null) throw new ArgumentException($"{Name}: class '{missing}' is not in the target class list");
        return new LabeledDataset(name ?? Name, classes, Items.Select(it => it with { Label = index[ClassNames[it.Label]] }).ToList());
    }

    /// <summary>The subset at <paramref name="indices"/> (same classes), e.g. a k-shot sample.</summary>
    public LabeledDataset Subset(IEnumerable<int> indices, string? name = null) =>
        new(name ?? Name, ClassNames, indices.Select(i => Items[i]).ToList(), ClassPrompts);

    /// <summary>
    /// <paramref name="count"/> items drawn without replacement so that each class keeps its share: one per class
    /// first (when <paramref name="count"/> allows), the rest in proportion to the classes' remaining sizes, odd items
    /// to the largest remainders. The same (set, count, seed) always gives the same items, kept in the set's order, so
    /// a sampled set's feature cache is reused. The whole set when <paramref name="count"/> is not smaller than it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    public LabeledDataset StratifiedSample(int count, int seed)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, $"{Name}: a sample needs at least one image");
        if (count >= Items.Count) return this;
        var members = Enumerable.Range(0, ClassNames.Count).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < Items.Count; i++) members[Items[i].Label].Add(i);
        int present = members.Count(m => m.Count > 0);
        int[] floor = members.Select(m => m.Count > 0 && count >= present ? 1 : 0).ToArray();
        int rest = count - floor.Sum(), pool = Items.Count - floor.Sum();
        var share = members.Select((m, c) => (double)(m.Count - floor[c]) * rest / pool).ToArray();
        var quota = share.Select((x, c) => floor[c] + (int)Math.Floor(x)).ToArray();
        foreach (int c in Enumerable.Range(0, quota.Length).OrderByDescending(c => share[c] - Math.Floor(share[c])).ThenBy(c => c).Take(count - quota.Sum()))
            quota[c]++;
        var rng = new Random(seed);
        var chosen = new List<int>(count);
        for (int c = 0; c < members.Length; c++)
        {
            var shuffled = members[c].ToArray();
            rng.Shuffle(shuffled);
            chosen.AddRange(shuffled.Take(quota[c]));
        }
        chosen.Sort();
        return Subset(chosen, $"{Name} ({count} of {Items.Count})");
    }
}
