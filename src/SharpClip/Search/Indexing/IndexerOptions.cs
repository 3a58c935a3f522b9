namespace SharpClip.Search;

/// <summary>How an indexing run behaves. Defaults suit a photo folder on a laptop.</summary>
public sealed record IndexerOptions
{
    /// <summary>Storage precision for a new or rebuilt index; null keeps the existing index's (float32 for a new one).</summary>
    public EmbeddingPrecision? Precision { get; init; }

    /// <summary>Drop every stored embedding and re-embed everything (needed to switch models or precision).</summary>
    public bool Rebuild { get; init; }

    /// <summary>Images per encoder call and per committed transaction: the most a crash can lose.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Try again files that failed before although they have not changed.</summary>
    public bool RetryFailures { get; init; }

    /// <summary>File extensions to index; null = <see cref="FolderScanner.DefaultExtensions"/>.</summary>
    public IReadOnlySet<string>? Extensions { get; init; }
}

/// <summary>Progress of the embedding phase: files done of those that needed work.</summary>
public sealed record IndexProgress(int Done, int Total, int Failed, TimeSpan Elapsed);

/// <summary>What one indexing run did. <see cref="Embedded"/> counts encoder work; a resumed run re-embeds nothing that was committed.</summary>
public sealed record IndexSummary(
    int Scanned, int Embedded, int Reused, int Touched, int Unchanged, int CaptionsUpdated, int Removed, int Failed,
    int KnownFailures, double Seconds)
{
    /// <summary>Entries of the folders that were not indexed and why (links to folders, FIFOs, dangling links...).</summary>
    public IReadOnlyList<SharpClip.Files.SkippedEntry> Skipped { get; init; } = [];

    /// <summary>Images indexed in this run with a warning (see <see cref="ImageWarnings"/>; listed by <see cref="ImageIndex.Warnings"/>).</summary>
    public int Warned { get; init; }

    /// <summary>Encoder throughput of this run (0 when nothing was embedded).</summary>
    public double ImagesPerSecond => Embedded > 0 && Seconds > 0 ? Embedded / Seconds : 0;
}
