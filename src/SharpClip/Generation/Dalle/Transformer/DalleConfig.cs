using System.Text.Json;
using SharpClip.Generation.Training;

namespace SharpClip.Generation.Dalle.Transformer;

/// <summary>
/// The shape of a DALL-E transformer. One token stream: the caption's <see cref="TextLength"/> BPE tokens (padding
/// after the end token is a distinct id per position, <see cref="TextVocabSize"/> + position, as DALLE-pytorch does, so
/// the model always knows where in the caption it is) followed by the image's <see cref="ImageRows"/> ×
/// <see cref="ImageColumns"/> dVAE codes in raster order. One output head covers both vocabularies:
/// ids [0, <see cref="TextTokens"/>) are text, then <see cref="ImageVocabSize"/> image codes.
/// </summary>
public sealed record DalleConfig
{
    /// <summary>The BPE tokenizer's vocabulary size.</summary>
    public int TextVocabSize { get; init; }
    /// <summary>Caption tokens per sample, start and end tokens included.</summary>
    public int TextLength { get; init; } = 32;
    /// <summary>The dVAE's codebook size.</summary>
    public int ImageVocabSize { get; init; }
    public int ImageRows { get; init; } = 8;
    public int ImageColumns { get; init; } = 8;
    public int Width { get; init; } = 256;
    public int Layers { get; init; } = 4;
    public int Heads { get; init; } = 4;

    /// <summary>Text ids: the BPE vocabulary and one padding id per caption position.</summary>
    public int TextTokens => TextVocabSize + TextLength;
    /// <summary>Output classes: text ids, then image codes.</summary>
    public int TotalTokens => TextTokens + ImageVocabSize;
    public int ImageTokens => ImageRows * ImageColumns;
    /// <summary>Positions the model reads in training: every token but the last image token.</summary>
    public int InputLength => TextLength + ImageTokens - 1;

    public DalleConfig Validate(string source = "DALL-E config")
    {
        var r = new GenerativeConfigJson.Checker(source);
        r.Require(TextVocabSize > 2, nameof(TextVocabSize), "must be more than 2");
        r.Require(TextLength >= 2, nameof(TextLength), "must be at least 2 (start and end tokens)");
        r.Require(ImageVocabSize >= 2, nameof(ImageVocabSize), "must be at least 2");
        r.Require(ImageRows > 0 && ImageColumns > 0, nameof(ImageRows), "the image grid must not be empty");
        r.Require(Width > 0 && Heads > 0 && Width % Heads == 0, nameof(Heads), $"width {Width} must divide into {Heads} heads");
        r.Require(Layers > 0, nameof(Layers), "must be positive");
        return this;
    }

    public static DalleConfig Load(string path) => GenerativeConfigJson.Load<DalleConfig>(path).Validate(path);
    public string ToJson() => JsonSerializer.Serialize(this, GenerativeConfigJson.Options);
}
