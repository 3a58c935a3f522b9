namespace SharpClip.Search;

/// <summary>The encoder an indexing run embeds with, and the model string recorded in the index for it.</summary>
public sealed record IndexEncoder(IImageTextEncoder Encoder, string Model) : IDisposable
{
    public void Dispose() => Encoder.Dispose();
}

/// <summary>
/// Which model an index is updated with: the one named, else the one the index recorded. An update must use the
/// index's own model (<see cref="ModelMismatchException"/> otherwise: mixed embeddings make scores meaningless); a
/// rebuild re-embeds everything, so any model will do.
/// </summary>
public static class IndexModel
{
    /// <summary>Opens the encoder for updating (or, with <paramref name="rebuild"/>, rebuilding) <paramref name="index"/>.</summary>
    /// <param name="index">The index to update.</param>
    /// <param name="model">The model to use; null: the index's own.</param>
    /// <param name="rebuild">Whether every embedding is to be dropped and made again (then any model will do).</param>
    /// <exception cref="ModelMismatchException">an update with a model other than the index's.</exception>
    public static IndexEncoder Open(ImageIndex index, string? model, bool rebuild)
    {
        string name = model ?? index.Metadata?.Model ?? throw new InvalidOperationException($"index '{index.Path}' records no model yet; name one");
        var encoder = rebuild ? EncoderResolver.Open(name) : EncoderResolver.OpenFor(index, model);
        if (File.Exists(name)) name = Path.GetFullPath(name); // a weight file is recorded by full path, so a later run from elsewhere finds it
        return new IndexEncoder(encoder, name);
    }
}
