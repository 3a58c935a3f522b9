namespace SharpClip.Vision;

/// <summary>
/// The buffers one thread reuses from image to image when it preprocesses files: the file's bytes and the decoded
/// samples. Why: on the <c>embed</c> bench's photos (0.6 MP, 66 of 200 PNG) a fresh pair of arrays per image cost a
/// quarter to a third of the whole read-decode-resize-normalise time in zeroing, copying and (on a VM especially)
/// page faults: 13.9–18.4 ms per file with fresh arrays, 10.1–11.0 ms reused (<c>bench … preprocess --list</c>,
/// alternated). Only the preprocessing path uses it, where the decoded image is resized at once and never leaves.
/// </summary>
internal sealed class DecodeScratch
{
    /// <summary>Buffers larger than this are used once and not kept: one huge image should not hold its memory on the
    /// thread for good (64 MiB is a 21-megapixel RGB photo).</summary>
    const int MaxKeptBytes = 64 << 20;

    [ThreadStatic] static DecodeScratch? _current;

    byte[] _file = [], _samples = [];

    /// <summary>This thread's buffers.</summary>
    public static DecodeScratch ForThisThread => _current ??= new DecodeScratch();

    /// <summary>A buffer of at least <paramref name="length"/> bytes for a file's contents.</summary>
    public byte[] File(long length) => Take(ref _file, length);

    /// <summary>A buffer of at least <paramref name="length"/> bytes for decoded samples.</summary>
    public byte[] Samples(long length) => Take(ref _samples, length);

    static byte[] Take(ref byte[] kept, long length)
    {
        if (kept.Length >= length) return kept;
        // Not zeroed: every byte the caller reads is written first.
        var fresh = GC.AllocateUninitializedArray<byte>(checked((int)length));
        if (length <= MaxKeptBytes) kept = fresh;
        return fresh;
    }
}
