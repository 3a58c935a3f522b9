namespace SharpClip.Search;

/// <summary>
/// A query as clip-retrieval composes them: a weighted sum of unit-length text and image embeddings, renormalised,
/// optionally minus a negative text ("a beach, but no people"). Any combination of the positive parts works; at
/// least one is needed.
/// </summary>
public sealed record SearchQuery
{
    public string? Text { get; init; }
    /// <summary>An image embedding, e.g. from <see cref="IImageTextEncoder.EmbedImage"/> of an uploaded file.</summary>
    public float[]? Image { get; init; }
    /// <summary>An indexed image whose stored embedding is the query ("more like this").</summary>
    public long? LikeId { get; init; }
    public string? Negative { get; init; }
    public float TextWeight { get; init; } = 1f;
    public float ImageWeight { get; init; } = 1f;
    public float NegativeWeight { get; init; } = 1f;
}

/// <summary>One result: the image, its cosine similarity to the composed query, and what the index knows about it.</summary>
public sealed record SearchHit(long Id, float Score, string Path, string? Caption, int Width, int Height);
