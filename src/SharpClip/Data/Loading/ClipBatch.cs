namespace SharpClip.Data.Loading;

/// <summary>
/// One batch as plain arrays, so Data stays free of torch: the trainer wraps them in tensors
/// (<c>torch.tensor(Pixels, [Count, 3, ImageSize, ImageSize])</c>, <c>torch.tensor(TokenIds, [Count, ContextLength])</c>).
/// </summary>
public sealed class ClipBatch
{
    internal ClipBatch(int epoch, long index, int imageSize, int contextLength, float[] pixels, long[] tokenIds,
                       IReadOnlyList<string> keys, IReadOnlyList<string> captions)
    {
        Epoch = epoch;
        Index = index;
        ImageSize = imageSize;
        ContextLength = contextLength;
        Pixels = pixels;
        TokenIds = tokenIds;
        Keys = keys;
        Captions = captions;
    }

    public int Epoch { get; }

    /// <summary>0-based position of this batch within its epoch (what a resumed run passes as skipBatches).</summary>
    public long Index { get; }

    /// <summary>Samples in the batch (BatchSize, or fewer for the last batch when DropLast is off).</summary>
    public int Count => Keys.Count;

    public int ImageSize { get; }
    public int ContextLength { get; }

    /// <summary>[Count, 3, ImageSize, ImageSize] row-major.</summary>
    public float[] Pixels { get; }

    /// <summary>[Count, ContextLength] row-major.</summary>
    public long[] TokenIds { get; }

    /// <summary>Sample keys in batch order.</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <summary>The caption each sample used this epoch.</summary>
    public IReadOnlyList<string> Captions { get; }
}
