using SharpClip.Data;

namespace SharpClip.Demos.Emoji;

/// <summary>How far a style is from the training styles.</summary>
public enum EmojiStyleRole
{
    /// <summary>Seen in training (Google, Twitter).</summary>
    Training,
    /// <summary>Other vendors' raster art (Apple, Facebook): same genre, different hand.</summary>
    NearShift,
    /// <summary>Other art directions (OpenMoji colour and line-art, Fluent flat and high contrast).</summary>
    FarShift,
}

/// <summary>
/// One art style of the emoji set: its name (a folder and file name), role, where its pictures come from and the
/// licence of that art (Apple's and Facebook's pixels may not be redistributed: they are fetched at run time only).
/// </summary>
public sealed record EmojiStyle(string Name, EmojiStyleRole Role, string Origin, string Licence)
{
    public static readonly EmojiStyle Google = new("google", EmojiStyleRole.Training, "emoji-datasource sheet (google)", "Apache-2.0 (Noto Emoji)");
    public static readonly EmojiStyle Twitter = new("twitter", EmojiStyleRole.Training, "emoji-datasource sheet (twitter)", "CC-BY-4.0 (Twemoji)");
    public static readonly EmojiStyle Apple = new("apple", EmojiStyleRole.NearShift, "emoji-datasource sheet (apple)", "© Apple: local evaluation only, do not redistribute");
    public static readonly EmojiStyle Facebook = new("facebook", EmojiStyleRole.NearShift, "emoji-datasource sheet (facebook)", "© Meta, terms unclear: local evaluation only, do not redistribute");
    public static readonly EmojiStyle OpenMoji = new("openmoji", EmojiStyleRole.FarShift, "openmoji color/svg", "CC-BY-SA-4.0 (OpenMoji)");
    public static readonly EmojiStyle OpenMojiBlack = new("openmoji_black", EmojiStyleRole.FarShift, "openmoji black/svg", "CC-BY-SA-4.0 (OpenMoji)");
    public static readonly EmojiStyle FluentFlat = new("fluent_flat", EmojiStyleRole.FarShift, "@iconify-json/fluent-emoji-flat", "MIT (Microsoft Fluent Emoji)");
    public static readonly EmojiStyle FluentHighContrast = new("fluent_hc", EmojiStyleRole.FarShift, "@iconify-json/fluent-emoji-high-contrast", "MIT (Microsoft Fluent Emoji)");

    /// <summary>Training styles first, then near and far shift: the column order of the robustness table.</summary>
    public static readonly IReadOnlyList<EmojiStyle> All = [Google, Twitter, Apple, Facebook, OpenMoji, OpenMojiBlack, FluentFlat, FluentHighContrast];

    /// <summary>The style named <paramref name="name"/> (case-insensitive); throws listing the names.</summary>
    public static EmojiStyle Named(string name) =>
        All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown emoji style '{name}' (styles: {string.Join(", ", All.Select(s => s.Name))})");

    /// <summary>The sheet vendor for raster styles, else null.</summary>
    public string? SheetVendor => EmojiCatalog.SheetVendors.Contains(Name) ? Name : null;
}
