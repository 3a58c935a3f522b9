using SharpClip.Data;

namespace SharpClip.Generation.Studies;

/// <summary>One held-out caption, the real image it describes (the study's ceiling) and its group, if the data has groups.</summary>
/// <param name="Key">The sample's key in its source.</param>
/// <param name="Caption">The text the generator is given and the judge ranks.</param>
/// <param name="Image">The real image of the sample.</param>
/// <param name="Group">The sample's group field (an emoji group: "animals &amp; nature"), or null.</param>
public sealed record HeldOutCaption(string Key, string Caption, ImageSource Image, string? Group);

/// <summary>The captions a study runs on, and every group of the source they came from (the group R-precision's classes).</summary>
/// <param name="Source">The source's name, for reports.</param>
/// <param name="Captions">The picked captions, in the source's order.</param>
/// <param name="Groups">Every distinct group value in the source, ordinal order; empty when it has none.</param>
/// <param name="Available">How many distinct captions the source had to pick from.</param>
public sealed record HeldOutSet(string Source, IReadOnlyList<HeldOutCaption> Captions, IReadOnlyList<string> Groups, int Available);

/// <summary>
/// Draws the held-out captions of a generator study from any image–caption source (<c>emoji:val</c>, a JSONL, a CSV).
/// A sample's caption is its first one (the data's canonical phrasing: the emoji's CLDR name); a caption that several
/// samples share (an emoji drawn in two styles) counts once, with its first sample, so no caption is its own distractor.
/// Which captions are picked depends only on (source, count, seed), never on the machine or thread count.
/// </summary>
public static class HeldOutCaptions
{
    /// <summary>The field naming a sample's group (<see cref="ImageTextSample.Fields"/>), as the emoji set writes it.</summary>
    public const string DefaultGroupField = "group";

    /// <param name="source">Any image–caption source; read front to back once.</param>
    /// <param name="count">Captions to pick; all of them when the source has fewer.</param>
    /// <param name="seed">Seeds the draw.</param>
    /// <param name="groupField">The sample field that holds its group; samples without it have none.</param>
    /// <param name="cancellationToken">Honoured while the source is read.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    /// <exception cref="InvalidDataException">the source has no captioned sample.</exception>
    public static HeldOutSet Pick(IImageTextSource source, int count, int seed, string groupField = DefaultGroupField, CancellationToken cancellationToken = default)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "--captions must be at least 1");
        var distinct = new List<HeldOutCaption>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var groups = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var sample in source.ReadAll(cancellationToken: cancellationToken))
        {
            string? group = sample.Fields.TryGetValue(groupField, out var g) && g.Length > 0 ? g : null;
            if (group is not null) groups.Add(group);
            if (seen.Add(sample.Captions[0])) distinct.Add(new HeldOutCaption(sample.Key, sample.Captions[0], sample.Image, group));
        }
        if (distinct.Count == 0) throw new InvalidDataException($"{source.Name}: no captioned samples to hold out");
        var order = Enumerable.Range(0, distinct.Count).ToArray();
        new Random(seed).Shuffle(order);
        var picked = order.Take(count).Order().Select(i => distinct[i]).ToList();
        return new HeldOutSet(source.Name, picked, [.. groups], distinct.Count);
    }
}
