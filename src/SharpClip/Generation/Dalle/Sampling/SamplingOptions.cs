namespace SharpClip.Generation.Dalle.Sampling;

/// <summary>How image tokens are drawn.</summary>
public sealed record SamplingOptions
{
    /// <summary>Logits are divided by this before sampling (below 1 sharper, above 1 more varied).</summary>
    public double Temperature { get; init; } = 1.0;
    /// <summary>Keep only the k most likely codes (null = all).</summary>
    public int? TopK { get; init; }
    /// <summary>Nucleus sampling: keep the most likely codes whose probabilities sum to p (null = all).</summary>
    public double? TopP { get; init; }
    /// <summary>Sequences decoded together.</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Decode with the key/value cache (false recomputes the whole prefix per token: for checking, and benchmarks).</summary>
    public bool UseCache { get; init; } = true;

    public SamplingOptions Validate()
    {
        if (!(Temperature > 0)) throw new ArgumentException($"sampling temperature {Temperature}: must be positive");
        if (TopK is <= 0) throw new ArgumentException($"top-k {TopK}: must be positive");
        if (TopP is not null and (<= 0 or > 1)) throw new ArgumentException($"top-p {TopP}: must be in (0, 1]");
        if (BatchSize <= 0) throw new ArgumentException($"sampling batch size {BatchSize}: must be positive");
        return this;
    }
}

/// <summary>Progress of a sampling call: image tokens drawn of the total (sequences × tokens per image).</summary>
public sealed record SamplingProgress(long TokensDone, long TokensTotal);
