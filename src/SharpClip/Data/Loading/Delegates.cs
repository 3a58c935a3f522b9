namespace SharpClip.Data.Loading;

/// <summary>
/// Turns a sample's image into model input: decode (<see cref="ImageFile"/>, <see cref="EncodedImage"/> or
/// <see cref="RawRgbImage"/>), augment (e.g. random resized crop) and normalise, returning
/// <c>float[3 * size * size]</c> in CHW order, or null for an image that cannot be used (the sample is skipped and
/// counted, as it is when this throws). Called concurrently from the loader's workers, so it must be thread-safe;
/// <paramref name="random"/> is private to this call and seeded from (seed, epoch, position), which makes
/// augmentation reproducible whatever the number of workers.
/// </summary>
public delegate float[]? ImagePipeline(ImageTextSample sample, Random random);

/// <summary>
/// Tokenises a batch of captions: one row per caption, all rows the same length (the context length, e.g. 77,
/// padded with zeros). Called from a single thread, so the tokenizer need not be thread-safe.
/// </summary>
public delegate long[][] CaptionTokenizer(IReadOnlyList<string> captions);
