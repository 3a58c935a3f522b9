namespace SharpClip.Data.Loading;

/// <summary>Which caption of a multi-caption sample a batch uses.</summary>
public enum CaptionSelection
{
    /// <summary>One drawn per epoch from (seed, epoch, key): training.</summary>
    PerEpoch,
    /// <summary>Always the first: evaluation and retrieval.</summary>
    First,
}

/// <summary>
/// Settings of <see cref="ClipDataLoader"/>. The defaults suit training; for evaluation use
/// <see cref="ForEvaluation"/> (file order, every sample, first caption).
/// </summary>
public sealed record ClipLoaderOptions
{
    public int BatchSize { get; init; } = 64;

    /// <summary>Side of the square images the pipeline returns; each must be float[3 * ImageSize * ImageSize].</summary>
    public int ImageSize { get; init; } = 224;

    public int Seed { get; init; }

    /// <summary>Reorder the source's shards each epoch (the first shuffle level).</summary>
    public bool ShuffleShards { get; init; } = true;

    /// <summary>
    /// Samples held in the shuffle buffer (the second level); 0 or 1 keeps shard order. The buffer holds samples before
    /// decoding — paths, or the encoded bytes for tar shards — so its memory is this many encoded images at most.
    /// </summary>
    public int ShuffleBuffer { get; init; } = 2000;

    /// <summary>Parallel threads running the image pipeline.</summary>
    public int Workers { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>
    /// How far ahead the loader may work, in batches: at most PrefetchBatches × BatchSize samples are queued or being
    /// decoded, and at most PrefetchBatches finished batches wait for the consumer. This is what keeps memory flat
    /// whatever the dataset size.
    /// </summary>
    public int PrefetchBatches { get; init; } = 2;

    /// <summary>Drop the last incomplete batch of an epoch (contrastive losses prefer equal batch sizes).</summary>
    public bool DropLast { get; init; } = true;

    public CaptionSelection Captions { get; init; } = CaptionSelection.PerEpoch;

    /// <summary>
    /// After this many failed images in a row the epoch stops with an error: a systematic failure (wrong decoder, bad
    /// pipeline) should not look like a dataset with everything skipped.
    /// </summary>
    public int MaxConsecutiveFailures { get; init; } = 256;

    /// <summary>Samples that may be in flight (queued or being decoded) at once.</summary>
    public int InFlightLimit => PrefetchBatches * BatchSize;

    /// <summary>File order, every sample (no drop), first caption: evaluation and retrieval passes.</summary>
    public static ClipLoaderOptions ForEvaluation(int batchSize, int imageSize) => new()
    {
        BatchSize = batchSize, ImageSize = imageSize, ShuffleShards = false, ShuffleBuffer = 0,
        DropLast = false, Captions = CaptionSelection.First,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field.</summary>
    public ClipLoaderOptions Validate()
    {
        void Require(bool ok, string field, string why) { if (!ok) throw new ArgumentException($"loader option '{field}': {why}"); }
        Require(BatchSize > 0, nameof(BatchSize), "must be positive");
        Require(ImageSize > 0, nameof(ImageSize), "must be positive");
        Require(ShuffleBuffer >= 0, nameof(ShuffleBuffer), "must not be negative");
        Require(Workers > 0, nameof(Workers), "must be positive");
        Require(PrefetchBatches > 0, nameof(PrefetchBatches), "must be positive");
        Require(MaxConsecutiveFailures > 0, nameof(MaxConsecutiveFailures), "must be positive");
        return this;
    }
}
