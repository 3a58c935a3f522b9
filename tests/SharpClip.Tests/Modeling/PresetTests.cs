using SharpClip.Modeling;

namespace SharpClip.Tests.Modeling;

public class PresetTests
{
    // Parameter counts of the reference implementation: OpenAI's nine from openai/CLIP's clip/model.py (d05afc4),
    // sum(p.numel() for p in CLIP(...).parameters()) with each preset's constructor arguments (the figures CLIP's own
    // notebook prints, e.g. ViT-B/32 151,277,313). open_clip's two are checked below against its published profile.
    public static IEnumerable<object[]> OpenAICounts =>
    [
        ["RN50", 102_007_137L], ["RN101", 119_688_033L], ["RN50x4", 178_300_601L], ["RN50x16", 290_979_217L],
        ["RN50x64", 623_258_305L], ["ViT-B/32", 151_277_313L], ["ViT-B/16", 149_620_737L], ["ViT-L/14", 427_616_513L],
        ["ViT-L/14@336px", 427_944_193L],
    ];

    [Theory, MemberData(nameof(OpenAICounts))]
    public void OpenAIPresetsHaveTheReferenceParameterCount(string name, long expected) =>
        Assert.Equal(expected, ClipPresets.Get(name).ParameterCount);

    // open_clip's docs/model_profile.csv gives millions with two decimals: total, image tower, text tower.
    [Theory]
    [InlineData("ViT-H-14", 986.11, 632.08)]
    [InlineData("ViT-g-14", 1366.68, 1012.65)]
    public void OpenClipPresetsMatchItsPublishedProfile(string name, double totalMillions, double imageMillions)
    {
        var config = ClipPresets.Get(name);
        Assert.Equal(totalMillions, Math.Round(config.ParameterCount / 1e6, 2));
        Assert.Equal(imageMillions, Math.Round((config.ParameterCount - TextTowerParameters(config)) / 1e6, 2));
    }

    // The text tower plus logit_scale, written out separately so the image tower's share is checked on its own.
    static long TextTowerParameters(ClipConfig c)
    {
        long w = c.TextWidth;
        long block = 2 * w + (3 * w * w + 3 * w) + (w * w + w) + 2 * w + (w * 4 * w + 4 * w) + (4 * w * w + w);
        return c.VocabSize * w + c.ContextLength * w + c.TextLayers * block + 2 * w + w * c.EmbedDim + 1;
    }

    [Fact]
    public void OpenClipPresetsUseTheirHeadWidthsAndGelu()
    {
        Assert.Equal(16, ClipPresets.Get("ViT-H-14").VisionHeads);
        Assert.Equal(16, ClipPresets.Get("ViT-g-14").VisionHeads);
        Assert.Equal(6144, ClipPresets.Get("ViT-g-14").VisionMlpWidth);
        Assert.Equal(Activation.Gelu, ClipPresets.Get("vit-g-14").Activation);
        Assert.Equal(Activation.QuickGelu, ClipPresets.Get("ViT-B/32").Activation);
    }

    [Theory, MemberData(nameof(TinyConfigs.All), MemberType = typeof(TinyConfigs))]
    public void AnalyticCountMatchesABuiltModel(string name)
    {
        var config = TinyConfigs.ByName(name);
        using var model = new ClipModel(config);
        Assert.Equal(model.ParameterCount, config.ParameterCount);
    }

    [Fact]
    public void NamesMatchInEitherSpelling()
    {
        Assert.Same(ClipPresets.VitL14At336, ClipPresets.Get("ViT-L-14-336"));
        Assert.Same(ClipPresets.VitB32, ClipPresets.Get("vit-b/32"));
        Assert.Same(ClipPresets.RN50x4, ClipPresets.Get("rn50x4"));
        Assert.Null(ClipPresets.TryGet("ViT-Q/7"));
        var e = Assert.Throws<ArgumentException>(() => ClipPresets.Get("ViT-Q/7"));
        Assert.Contains("ViT-B/32", e.Message);
        Assert.All(ClipPresets.All, p => p.Config.Validate());
    }
}
