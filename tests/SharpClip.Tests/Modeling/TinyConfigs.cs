using SharpClip.Modeling;

namespace SharpClip.Tests.Modeling;

/// <summary>Small architectures for unit tests (milliseconds to build), covering both image towers.</summary>
internal static class TinyConfigs
{
    public static ClipConfig Vit { get; } = new()
    {
        EmbedDim = 16, ImageResolution = 16, VisionLayers = [2], VisionWidth = 64, VisionPatchSize = 8,
        ContextLength = 12, VocabSize = 300, TextWidth = 64, TextHeads = 1, TextLayers = 2,
    };

    public static ClipConfig ResNet { get; } = new()
    {
        EmbedDim = 24, ImageResolution = 64, VisionLayers = [1, 2, 1, 1], VisionWidth = 8, VisionPatchSize = null,
        ContextLength = 12, VocabSize = 300, TextWidth = 64, TextHeads = 1, TextLayers = 1,
    };

    /// <summary>ViT-g/14's peculiarities (head width 88, MLP ratio 4.3637, GELU) at a small width.</summary>
    public static ClipConfig GiantLike { get; } = new()
    {
        EmbedDim = 16, ImageResolution = 28, VisionLayers = [1], VisionWidth = 176, VisionPatchSize = 14,
        VisionHeadWidth = 88, VisionMlpRatio = 4.3637, Activation = Activation.Gelu,
        ContextLength = 12, VocabSize = 300, TextWidth = 128, TextHeads = 2, TextLayers = 1,
    };

    public static IEnumerable<object[]> All => [["vit"], ["resnet"], ["giant"]];

    public static ClipConfig ByName(string name) => name switch
    {
        "vit" => Vit,
        "resnet" => ResNet,
        "giant" => GiantLike,
        _ => throw new ArgumentException(name),
    };
}
