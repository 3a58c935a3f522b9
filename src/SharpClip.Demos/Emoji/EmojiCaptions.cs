using SharpClip.Data;

namespace SharpClip.Demos.Emoji;

/// <summary>
/// Training captions for an emoji: several phrasings, one drawn per epoch by the loader. No style words (the model
/// should not learn "twitter" from the pictures), and only names, tags and keywords a user might type.
/// </summary>
public static class EmojiCaptions
{
    static readonly HashSet<string> StyleWords = new(StringComparer.OrdinalIgnoreCase) { "twitter", "google", "apple", "facebook", "openmoji", "fluent", "microsoft" };

    /// <summary>
    /// <c>{label}</c> · <c>an emoji of {label}</c> · <c>{label}, {3 shuffled tags}</c> · <c>{≤5 keywords}</c> ·
    /// <c>{label}, {subgroup}, {group}</c>; phrasings without material (no tags, no keywords) are left out. The tag
    /// shuffle is seeded by the key, so the files are the same on every run.
    /// </summary>
    public static IReadOnlyList<string> For(EmojiEntry e)
    {
        var captions = new List<string> { e.Label, $"an emoji of {e.Label}" };
        var tags = e.Tags.Where(t => !string.Equals(t, e.Label, StringComparison.OrdinalIgnoreCase)).ToArray();
        if (tags.Length > 0)
        {
            StableHash.Rng((long)StableHash.Of(e.Key)).Shuffle(tags);
            captions.Add($"{e.Label}, {string.Join(", ", tags.Take(3))}");
        }
        // emojilib lists vendor names as keywords for some emoji ("twitter"): style words would leak the art style.
        var keywords = e.Keywords.Where(k => !StyleWords.Contains(k) || e.Label.Contains(k, StringComparison.OrdinalIgnoreCase)).ToList();
        if (keywords.Count > 0) captions.Add(string.Join(", ", keywords.Take(5)));
        if (e.Subgroup.Length > 0 && e.Group.Length > 0) captions.Add($"{e.Label}, {e.Subgroup}, {e.Group}");
        return captions.Select(c => c.Trim()).Where(c => c.Length > 0).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The retrieval query for an emoji, as the notes' protocol asks.</summary>
    public static string Query(EmojiEntry e) => $"an emoji of {e.Label}";
}
