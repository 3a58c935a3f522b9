using System.Text.Json.Serialization;

namespace SharpClip.Modeling;

/// <summary>Activation inside the transformer MLPs: OpenAI's models use QuickGELU, most open_clip models plain GELU.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Activation>))]
public enum Activation { QuickGelu, Gelu }

/// <summary>
/// The shape of a CLIP model, with the reference's argument names (<c>clip.model.CLIP</c>). A ViT when
/// <see cref="VisionPatchSize"/> is set; otherwise a ModifiedResNet with <see cref="VisionLayers"/> blocks per stage.
/// </summary>
public sealed record ClipConfig
{
    public int EmbedDim { get; init; } = 512;
    public int ImageResolution { get; init; } = 224;
    /// <summary>ViT: one entry, the number of blocks. ResNet: four entries, bottlenecks per stage.</summary>
    public int[] VisionLayers { get; init; } = [12];
    public int VisionWidth { get; init; } = 768;
    /// <summary>Null for ModifiedResNet.</summary>
    public int? VisionPatchSize { get; init; } = 32;
    /// <summary>Width per attention head in the image tower (64 for OpenAI models; 88 for open_clip's ViT-g/14).</summary>
    public int VisionHeadWidth { get; init; } = 64;
    /// <summary>MLP hidden width as a multiple of the vision width (4; open_clip's ViT-g/14 uses 4.3637).</summary>
    public double VisionMlpRatio { get; init; } = 4.0;
    public int ContextLength { get; init; } = 77;
    public int VocabSize { get; init; } = 49408;
    public int TextWidth { get; init; } = 512;
    public int TextHeads { get; init; } = 8;
    public int TextLayers { get; init; } = 12;
    public Activation Activation { get; init; } = Activation.QuickGelu;

    [JsonIgnore] public bool IsVisionTransformer => VisionPatchSize is not null;

    /// <summary>Heads of the image tower: width/64 for a ViT; width·32/64 for the ResNet attention pool, as the reference.</summary>
    [JsonIgnore] public int VisionHeads => IsVisionTransformer ? VisionWidth / VisionHeadWidth : VisionWidth * 32 / 64;

    [JsonIgnore] public int VisionMlpWidth => (int)(VisionWidth * VisionMlpRatio);

    /// <summary>Checks the numbers fit together; throws <see cref="ArgumentException"/> naming the field.</summary>
    public ClipConfig Validate()
    {
        void Require(bool ok, string field, string why) { if (!ok) throw new ArgumentException($"config field '{field}': {why}"); }
        Require(EmbedDim > 0, nameof(EmbedDim), "must be positive");
        Require(ImageResolution > 0, nameof(ImageResolution), "must be positive");
        Require(VisionWidth > 0, nameof(VisionWidth), "must be positive");
        Require(ContextLength > 0, nameof(ContextLength), "must be positive");
        Require(VocabSize > 0, nameof(VocabSize), "must be positive");
        Require(TextWidth > 0 && TextHeads > 0 && TextWidth % TextHeads == 0, nameof(TextHeads), $"text width {TextWidth} must divide into {TextHeads} heads");
        Require(TextLayers > 0, nameof(TextLayers), "must be positive");
        if (IsVisionTransformer)
        {
            Require(VisionLayers.Length == 1 && VisionLayers[0] > 0, nameof(VisionLayers), "a ViT takes one positive layer count");
            Require(VisionPatchSize > 0 && ImageResolution % VisionPatchSize == 0, nameof(VisionPatchSize), $"must divide the resolution {ImageResolution}");
            Require(VisionWidth % VisionHeadWidth == 0, nameof(VisionHeadWidth), $"must divide the vision width {VisionWidth}");
        }
        else
        {
            Require(VisionLayers.Length == 4 && VisionLayers.All(l => l > 0), nameof(VisionLayers), "a ModifiedResNet takes four positive stage depths");
            Require(ImageResolution % 32 == 0, nameof(ImageResolution), "a ModifiedResNet needs a multiple of 32");
        }
        return this;
    }
}
