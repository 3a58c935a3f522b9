namespace SharpClip.Data;

/// <summary>
/// One image with one or more captions. Readers only emit samples with at least one non-empty caption. When there are
/// several, the loader draws one per epoch (<see cref="CaptionFor"/>), as CLIP-style training on multi-caption data
/// (COCO, augmented captions) does, so every caption is seen over the epochs without duplicating images.
/// </summary>
/// <param name="Key">Stable identity (relative path, tar key, synthetic index); also seeds the per-epoch caption draw.</param>
/// <param name="Image">Where the pixels come from; decoding is the image pipeline's job.</param>
/// <param name="Captions">At least one caption, trimmed, none empty.</param>
public sealed record ImageTextSample(string Key, ImageSource Image, IReadOnlyList<string> Captions)
{
    static readonly IReadOnlyDictionary<string, string> NoFields = new Dictionary<string, string>();

    /// <summary>
    /// The record's other scalar fields as written (a JSON Lines line's <c>label</c>, <c>group</c>, <c>style</c>), for
    /// uses that need what a sample is besides its captions — a study drawing held-out captions per emoji group, say.
    /// Training ignores them. Empty for sources that carry none.
    /// </summary>
    public IReadOnlyDictionary<string, string> Fields { get; init; } = NoFields;

    /// <summary>
    /// The caption used in <paramref name="epoch"/>: a function of (seed, epoch, key) only, so it does not depend on the
    /// shuffle order, the number of workers or where a resumed run restarted.
    /// </summary>
    public string CaptionFor(int seed, int epoch) =>
        Captions.Count == 1 ? Captions[0] : Captions[CaptionIndex(seed, epoch)];

    /// <summary>The index into <see cref="Captions"/> that <see cref="CaptionFor"/> picks.</summary>
    public int CaptionIndex(int seed, int epoch) =>
        Captions.Count <= 1 ? 0 : (int)(StableHash.Of(seed, epoch, StableHash.Of(Key), 0x6361_7074) % (ulong)Captions.Count);
}
