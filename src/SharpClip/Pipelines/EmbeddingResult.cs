namespace SharpClip.Pipelines;

/// <summary>One input's embedding, or why it has none (a file that could not be read is reported, not fatal).</summary>
public sealed record EmbeddingResult(int Index, string Source, float[]? Vector, string? Error)
{
    public bool Succeeded => Vector is not null;
}
