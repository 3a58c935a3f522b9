using System.Text.Json;
using SharpClip.Data;

namespace SharpClip.Demos.Emoji;

/// <summary>
/// One emoji (or one skin-tone variant of it) with everything the captions and the split need.
/// <c>Sheet</c> is its cell in the emoji-datasource sprite sheets; <c>VendorArt</c> lists the vendors whose own art
/// is in that cell (the sheets fill gaps with another vendor's art, which must not count as that vendor's style).
/// </summary>
public sealed record EmojiEntry(
    string Key, string Label, IReadOnlyList<string> Tags, IReadOnlyList<string> Keywords,
    string Group, string Subgroup, (int X, int Y) Sheet, IReadOnlySet<string> VendorArt, string? BaseKey)
{
    public bool IsSkinVariant => BaseKey is not null;

    /// <summary>The identity group shared by all variants of the concept.</summary>
    public string GroupKey => EmojiCodes.GroupKey(BaseKey ?? Key);

    public EmojiSplit Split => EmojiCodes.SplitOf(GroupKey);

    /// <summary>Country and subdivision flags: unnameable when unseen, so zero-shot tests leave them out.</summary>
    public bool IsFlag => Group == "flags";
}

/// <summary>
/// The join of emoji-datasource (code points, sprite cells, per-vendor availability), emojibase (CLDR label, tags,
/// group and subgroup) and emojilib (keywords) on normalised code points (FE0F removed). Component emoji (skin-tone
/// and hair swatches) are left out.
/// </summary>
public sealed class EmojiCatalog
{
    /// <summary>The vendors with sprite sheets in emoji-datasource.</summary>
    public static readonly string[] SheetVendors = ["apple", "google", "twitter", "facebook"];

    EmojiCatalog(List<EmojiEntry> entries)
    {
        Entries = entries;
        ByKey = entries.ToDictionary(e => e.Key, StringComparer.Ordinal);
    }

    /// <summary>Base emoji first (emoji-datasource order), each followed by its skin variants.</summary>
    public IReadOnlyList<EmojiEntry> Entries { get; }

    public IReadOnlyDictionary<string, EmojiEntry> ByKey { get; }

    /// <summary>
    /// Joins the three sources. <paramref name="emojiJson"/> is emoji-datasource's <c>emoji.json</c>;
    /// <paramref name="emojibaseData"/> and <paramref name="emojibaseMessages"/> are emojibase-data's <c>en/data.json</c>
    /// and <c>en/messages.json</c>; <paramref name="emojilibJson"/> is emojilib's <c>dist/emoji-en-US.json</c>.
    /// </summary>
    public static EmojiCatalog Join(byte[] emojiJson, byte[] emojibaseData, byte[] emojibaseMessages, byte[] emojilibJson)
    {
        using var datasource = Parse(emojiJson, "emoji-datasource/emoji.json");
        using var baseData = Parse(emojibaseData, "emojibase-data/en/data.json");
        using var messages = Parse(emojibaseMessages, "emojibase-data/en/messages.json");
        using var lib = Parse(emojilibJson, "emojilib/dist/emoji-en-US.json");

        // Groups by their CLDR message ("smileys & emotion"), subgroups by key ("face-smiling" → "face smiling"):
        // the subgroup messages ("with tongue") mean little without their group.
        var groupNames = Messages(messages.RootElement, "groups", "message");
        var subgroupNames = Messages(messages.RootElement, "subgroups", "key").Select(k => k.Replace('-', ' ')).ToList();
        var cldr = new Dictionary<string, (string Label, string[] Tags, string Group, string Subgroup)>(StringComparer.Ordinal);
        foreach (var e in baseData.RootElement.EnumerateArray())
        {
            var hex = Str(e, "hexcode");
            if (hex is null) continue;
            var label = Str(e, "label") ?? "";
            var tags = e.TryGetProperty("tags", out var t) && t.ValueKind == JsonValueKind.Array ? t.EnumerateArray().Select(x => x.GetString() ?? "").Where(x => x.Length > 0).ToArray() : [];
            string group = Index(e, "group") is int g && g < groupNames.Count ? groupNames[g] : "";
            string subgroup = Index(e, "subgroup") is int s && s < subgroupNames.Count ? subgroupNames[s] : "";
            cldr[EmojiCodes.Normalize(hex)] = (label, tags, group, subgroup);
            if (e.TryGetProperty("skins", out var skins) && skins.ValueKind == JsonValueKind.Array)
                foreach (var skin in skins.EnumerateArray())
                    if (Str(skin, "hexcode") is { } sh)
                        cldr[EmojiCodes.Normalize(sh)] = (Str(skin, "label") ?? label, tags, group, subgroup);
        }
        var keywords = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var p in lib.RootElement.EnumerateObject())
        {
            var key = EmojiCodes.Normalize(string.Join('-', p.Name.EnumerateRunes().Select(r => r.Value.ToString("X4"))));
            keywords[key] = p.Value.ValueKind == JsonValueKind.Array
                ? p.Value.EnumerateArray().Select(x => (x.GetString() ?? "").Replace('_', ' ').Trim()).Where(x => x.Length > 0).ToArray() : [];
        }

        var entries = new List<EmojiEntry>();
        foreach (var e in datasource.RootElement.EnumerateArray())
        {
            if (Str(e, "category") == "Component") continue;
            var unified = Str(e, "unified") ?? throw new InvalidDataException("emoji-datasource/emoji.json: an entry has no 'unified'");
            var key = EmojiCodes.Normalize(unified);
            var fallbackLabel = (Str(e, "name") ?? Str(e, "short_name") ?? key).ToLowerInvariant();
            var info = cldr.TryGetValue(key, out var c) ? c
                : (fallbackLabel, Array.Empty<string>(), (Str(e, "category") ?? "").ToLowerInvariant(), (Str(e, "subcategory") ?? "").Replace('-', ' '));
            var words = keywords.GetValueOrDefault(key) ?? [];
            entries.Add(new EmojiEntry(key, info.Item1, info.Item2, words, info.Item3, info.Item4, Cell(e, key), Vendors(e), null));
            if (!e.TryGetProperty("skin_variations", out var variations) || variations.ValueKind != JsonValueKind.Object) continue;
            foreach (var v in variations.EnumerateObject())
            {
                var vKey = EmojiCodes.Normalize(Str(v.Value, "unified") ?? throw new InvalidDataException($"emoji-datasource/emoji.json: skin variation {v.Name} of {unified} has no 'unified'"));
                var vLabel = cldr.TryGetValue(vKey, out var vc) ? vc.Label : info.Item1;
                entries.Add(new EmojiEntry(vKey, vLabel, info.Item2, words, info.Item3, info.Item4, Cell(v.Value, vKey), Vendors(v.Value), key));
            }
        }
        // A key can appear twice when two code-point spellings differ only by FE0F: keep the first.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return new EmojiCatalog(entries.Where(e => seen.Add(e.Key)).ToList());
    }

    static (int, int) Cell(JsonElement e, string key) =>
        (Index(e, "sheet_x") ?? throw new InvalidDataException($"emoji-datasource/emoji.json: {key} has no sheet_x"),
         Index(e, "sheet_y") ?? throw new InvalidDataException($"emoji-datasource/emoji.json: {key} has no sheet_y"));

    static HashSet<string> Vendors(JsonElement e) =>
        SheetVendors.Where(v => e.TryGetProperty("has_img_" + v, out var h) && h.ValueKind == JsonValueKind.True).ToHashSet(StringComparer.Ordinal);

    /// <summary>One text field of the groups (or subgroups) by index.</summary>
    static List<string> Messages(JsonElement root, string field, string text)
    {
        if (!root.TryGetProperty(field, out var arr) || arr.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"emojibase-data/en/messages.json: missing array '{field}'");
        var list = new List<string>();
        foreach (var m in arr.EnumerateArray())
        {
            int order = Index(m, "order") ?? list.Count;
            while (list.Count <= order) list.Add("");
            list[order] = Str(m, text) ?? "";
        }
        return list;
    }

    static string? Str(JsonElement e, string p) => e.TryGetProperty(p, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    static int? Index(JsonElement e, string p) => e.TryGetProperty(p, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;

    static JsonDocument Parse(byte[] json, string name)
    {
        try { return JsonDocument.Parse(json); }
        catch (JsonException e) { throw new InvalidDataException($"{name}: not valid JSON ({e.Message})", e); }
    }
}
