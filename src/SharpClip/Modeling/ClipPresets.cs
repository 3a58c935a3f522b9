namespace SharpClip.Modeling;

/// <summary>
/// The published CLIP architectures by name: OpenAI's nine (the names <c>clip.available_models()</c> uses) and
/// open_clip's ViT-H-14 and ViT-g-14 (plain GELU, as in open_clip's <c>model_configs</c>). Names match
/// case-insensitively and in either spelling ("ViT-B/32" or open_clip's "ViT-B-32"; "ViT-L/14@336px" or "ViT-L-14-336").
/// </summary>
public static class ClipPresets
{
    static ClipConfig ResNet(int embed, int resolution, int[] layers, int width, int textWidth, int textHeads) => new()
    {
        EmbedDim = embed, ImageResolution = resolution, VisionLayers = layers, VisionWidth = width, VisionPatchSize = null,
        TextWidth = textWidth, TextHeads = textHeads, TextLayers = 12,
    };

    static ClipConfig Vit(int embed, int resolution, int layers, int width, int patch, int textWidth, int textHeads, int textLayers = 12) => new()
    {
        EmbedDim = embed, ImageResolution = resolution, VisionLayers = [layers], VisionWidth = width, VisionPatchSize = patch,
        TextWidth = textWidth, TextHeads = textHeads, TextLayers = textLayers,
    };

    public static ClipConfig RN50 { get; } = ResNet(1024, 224, [3, 4, 6, 3], 64, 512, 8);
    public static ClipConfig RN101 { get; } = ResNet(512, 224, [3, 4, 23, 3], 64, 512, 8);
    public static ClipConfig RN50x4 { get; } = ResNet(640, 288, [4, 6, 10, 6], 80, 640, 10);
    public static ClipConfig RN50x16 { get; } = ResNet(768, 384, [6, 8, 18, 8], 96, 768, 12);
    public static ClipConfig RN50x64 { get; } = ResNet(1024, 448, [3, 15, 36, 10], 128, 1024, 16);
    public static ClipConfig VitB32 { get; } = Vit(512, 224, 12, 768, 32, 512, 8);
    public static ClipConfig VitB16 { get; } = Vit(512, 224, 12, 768, 16, 512, 8);
    public static ClipConfig VitL14 { get; } = Vit(768, 224, 24, 1024, 14, 768, 12);
    public static ClipConfig VitL14At336 { get; } = Vit(768, 336, 24, 1024, 14, 768, 12);

    /// <summary>open_clip's ViT-H-14: head width 80 (16 heads of a 1280 width), GELU.</summary>
    public static ClipConfig VitH14 { get; } = Vit(1024, 224, 32, 1280, 14, 1024, 16, 24) with
    {
        VisionHeadWidth = 80, Activation = Activation.Gelu,
    };

    /// <summary>open_clip's ViT-g-14: head width 88, MLP ratio 4.3637 (hidden width 6144), GELU.</summary>
    public static ClipConfig VitG14 { get; } = Vit(1024, 224, 40, 1408, 14, 1024, 16, 24) with
    {
        VisionHeadWidth = 88, VisionMlpRatio = 4.3637, Activation = Activation.Gelu,
    };

    /// <summary>Every preset under its canonical name, in a stable order.</summary>
    public static IReadOnlyList<(string Name, ClipConfig Config)> All { get; } =
    [
        ("RN50", RN50), ("RN101", RN101), ("RN50x4", RN50x4), ("RN50x16", RN50x16), ("RN50x64", RN50x64),
        ("ViT-B/32", VitB32), ("ViT-B/16", VitB16), ("ViT-L/14", VitL14), ("ViT-L/14@336px", VitL14At336),
        ("ViT-H-14", VitH14), ("ViT-g-14", VitG14),
    ];

    public static IEnumerable<string> Names => All.Select(p => p.Name);

    /// <summary>The preset called <paramref name="name"/>, or null.</summary>
    public static ClipConfig? TryGet(string name)
    {
        var key = Canonical(name);
        foreach (var (n, c) in All) if (Canonical(n) == key) return c;
        return null;
    }

    /// <summary>The preset called <paramref name="name"/>; throws <see cref="ArgumentException"/> listing the known names.</summary>
    public static ClipConfig Get(string name) =>
        TryGet(name) ?? throw new ArgumentException($"unknown model preset '{name}'; known: {string.Join(", ", Names)}", nameof(name));

    // "ViT-L/14@336px" and "vit-l-14-336" both become "vit-l-14-336".
    static string Canonical(string name) =>
        name.Trim().ToLowerInvariant().Replace('/', '-').Replace("@", "-").Replace("px", "").Replace('_', '-');
}
