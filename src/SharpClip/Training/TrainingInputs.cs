using SharpClip.Data;
using SharpClip.Data.Loading;
using SharpClip.Text;
using SharpClip.Vision;

namespace SharpClip.Training;

/// <summary>
/// The glue between datasets and the model: how a sample's image becomes model input (decode → augment →
/// normalise) and its caption token ids, and how a vocabulary is learned when training from scratch.
/// </summary>
public static class TrainingInputs
{
    /// <summary>Decodes any <see cref="ImageSource"/> in Pillow's opening mode (synthetic pixels are used as they are).</summary>
    public static DecodedImage Decode(ImageSource source) => source switch
    {
        RawRgbImage raw => DecodedImage.FromRgb(new RgbImage(raw.Width, raw.Height, raw.RgbHwc)),
        ImageFile file => ImageDecoder.Decode(file.Path),
        EncodedImage encoded => DecodeEncoded(encoded),
        _ => throw new NotSupportedException($"image source {source.GetType().Name} ({source.Describe()}) cannot be decoded"),
    };

    static DecodedImage DecodeEncoded(EncodedImage encoded)
    {
        using var stream = encoded.OpenRead();
        return ImageDecoder.Decode(stream, encoded.Origin);
    }

    /// <summary>
    /// Training images: open_clip's RandomResizedCrop (scale range from the config, bicubic), optionally torchvision's
    /// RandomGrayscale, and the processor's normalisation.
    /// </summary>
    public static ImagePipeline Augmented(ClipImageProcessor processor, RandomResizedCrop crop, RandomGrayscale? grayscale = null) =>
        (sample, random) => processor.ProcessAugmented(Decode(sample.Image), crop, random, grayscale);

    /// <summary>Evaluation images: CLIP's deterministic resize + centre crop.</summary>
    public static ImagePipeline Centered(ClipImageProcessor processor) =>
        (sample, _) => processor.Process(Decode(sample.Image));

    /// <summary>Captions to ids, cut to the context (keeping the end token) rather than failing on a long caption.</summary>
    public static CaptionTokenizer Captions(ClipTokenizer tokenizer, int contextLength) =>
        captions => tokenizer.TokenizeToArrays(captions, contextLength, truncate: true);

    /// <summary>
    /// Learns a CLIP-style BPE vocabulary from every caption of the first <paramref name="samples"/> training samples.
    /// Only captions are read; images are not decoded (synthetic scenes are not even rendered).
    /// </summary>
    /// <returns>The vocabulary and how many samples were actually read (fewer than asked when the data is smaller).</returns>
    public static (BpeVocabulary Vocabulary, int SamplesRead) LearnVocabulary(IImageTextSource source, int samples, int vocabSize, CancellationToken cancellationToken = default)
    {
        var read = source.ReadAll(cancellationToken: cancellationToken).Take(samples).ToList();
        var captions = read.SelectMany(s => s.Captions).ToList();
        if (captions.Count == 0) throw new InvalidDataException($"{source.Name}: no captions to learn a vocabulary from");
        return (BpeTrainer.Train(captions, new BpeTrainerOptions { VocabSize = vocabSize }, cancellationToken: cancellationToken), read.Count);
    }
}
