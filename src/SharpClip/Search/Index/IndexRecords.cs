namespace SharpClip.Search;

/// <summary>What made an index: the encoder's fingerprint and model string, the embedding size and storage precision.</summary>
public sealed record IndexMetadata(string Model, string Fingerprint, int Dimension, EmbeddingPrecision Precision, DateTime CreatedUtc);

/// <summary>One indexed image. <see cref="Path"/> is absolute; <see cref="Hash"/> is the SHA-256 of the file's bytes (hex).</summary>
public sealed record ImageRecord(long Id, string Path, long Size, DateTime ModifiedUtc, string Hash, int Width, int Height,
    string? Caption, DateTime AddedUtc, DateTime UpdatedUtc);

/// <summary>A file the indexer could not read, with the reason, kept so a user can see what is missing and why.</summary>
public sealed record FailureRecord(string Path, long Size, DateTime ModifiedUtc, string Reason, DateTime AtUtc);

/// <summary>Summary figures shown by the web app and the CLI.</summary>
public sealed record IndexStats(long Images, long Failures, string Model, string Fingerprint, int Dimension,
    EmbeddingPrecision Precision, DateTime? LastUpdatedUtc);
