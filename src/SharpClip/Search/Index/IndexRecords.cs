namespace SharpClip.Search;

/// <summary>What made an index: the encoder's fingerprint and model string, the embedding size and storage precision.</summary>
public sealed record IndexMetadata(string Model, string Fingerprint, int Dimension, EmbeddingPrecision Precision, DateTime CreatedUtc);

/// <summary>One indexed image. <see cref="Path"/> is absolute; <see cref="Hash"/> is the SHA-256 of the file's bytes (hex).</summary>
public sealed record ImageRecord(long Id, string Path, long Size, DateTime ModifiedUtc, string Hash, int Width, int Height,
    string? Caption, DateTime AddedUtc, DateTime UpdatedUtc);

/// <summary>A file the indexer could not read, with the reason, kept so a user can see what is missing and why.</summary>
public sealed record FailureRecord(string Path, long Size, DateTime ModifiedUtc, string Reason, DateTime AtUtc);

/// <summary>
/// An image that was indexed but will not search as the user expects (say a 16-bit grey PNG that Pillow's conversion
/// turns almost white), kept so the user sees why instead of wondering at a blank thumbnail. <see cref="ImageId"/> is
/// the image's row, or null if it has since left the index.
/// </summary>
public sealed record WarningRecord(long? ImageId, string Path, string Reason, DateTime AtUtc);

/// <summary>Summary figures shown by the web app and the CLI.</summary>
public sealed record IndexStats(long Images, long Failures, string Model, string Fingerprint, int Dimension,
    EmbeddingPrecision Precision, DateTime? LastUpdatedUtc)
{
    /// <summary>Indexed images with a warning (see <see cref="WarningRecord"/>).</summary>
    public long Warnings { get; init; }
}
