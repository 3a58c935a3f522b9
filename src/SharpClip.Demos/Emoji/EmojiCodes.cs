using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using SharpClip.Data;

namespace SharpClip.Demos.Emoji;

/// <summary>Which split an emoji identity belongs to.</summary>
public enum EmojiSplit { Train, Validation, Test }

/// <summary>
/// Code-point keys and the leakage-free split. Every source names an emoji by its code points in hex, but some write
/// the variation selector FE0F and some do not; removing it makes the keys of all sources agree. The split is by
/// identity group (skin tones, gender and ZWJ family variants of one concept share a group), so no test concept is
/// seen in training under another skin tone or gender.
/// </summary>
public static class EmojiCodes
{
    /// <summary>Skin-tone modifiers 1F3FB..1F3FF.</summary>
    static bool IsSkinTone(string cp) => cp is "1F3FB" or "1F3FC" or "1F3FD" or "1F3FE" or "1F3FF";

    /// <summary>Code points that vary a concept rather than name it: FE0F, skin tones, ZWJ, ♀/♂, man/woman/person/boy/girl, ❤/💋.</summary>
    static readonly HashSet<string> Variations = ["FE0F", "1F3FB", "1F3FC", "1F3FD", "1F3FE", "1F3FF", "200D", "2640", "2642",
        "1F468", "1F469", "1F9D1", "1F466", "1F467", "2764", "1F48B"];

    /// <summary>"1f600-fe0f" → "1F600": upper-case hex, '-' separated, FE0F removed. Throws on a non-hex part.</summary>
    public static string Normalize(string hex)
    {
        var parts = hex.Trim().ToUpperInvariant().Split('-', '_', ' ').Where(p => p.Length > 0 && p != "FE0F").ToList();
        if (parts.Count == 0) throw new FormatException($"'{hex}' names no code point");
        foreach (var p in parts)
            if (p.Length > 6 || !p.All(Uri.IsHexDigit)) throw new FormatException($"'{hex}': '{p}' is not a hexadecimal code point");
        return string.Join('-', parts);
    }

    /// <summary>True when the key carries a skin-tone modifier (a variant of a base emoji).</summary>
    public static bool HasSkinTone(string key) => key.Split('-').Any(IsSkinTone);

    /// <summary>
    /// The identity group of a normalised key: its code points minus the variation code points; when nothing is left
    /// (e.g. 👨 "man" itself), the code points minus FE0F and skin tones.
    /// </summary>
    public static string GroupKey(string key)
    {
        var parts = key.Split('-');
        var core = parts.Where(p => !Variations.Contains(p)).ToList();
        if (core.Count == 0) core = parts.Where(p => p != "FE0F" && !IsSkinTone(p)).ToList();
        return string.Join('-', core);
    }

    /// <summary>
    /// sha1(group key) read as a big-endian integer: ≡ 0 (mod 5) → test (20 %); ≡ 1 (mod 10) → validation (10 %);
    /// else train. A function of the key alone, so it is stable across runs, package versions and styles.
    /// </summary>
    public static EmojiSplit SplitOf(string groupKey)
    {
        var digest = SHA1.HashData(Encoding.UTF8.GetBytes(groupKey));
        var value = new BigInteger(digest, isUnsigned: true, isBigEndian: true);
        if (value % 5 == 0) return EmojiSplit.Test;
        return value % 10 == 1 ? EmojiSplit.Validation : EmojiSplit.Train;
    }

    /// <summary>The emoji's text ("1F600" → "😀").</summary>
    public static string ToText(string key) =>
        string.Concat(key.Split('-').Select(p => char.ConvertFromUtf32(Convert.ToInt32(p, 16))));
}
