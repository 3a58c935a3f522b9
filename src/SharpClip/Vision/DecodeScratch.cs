using System.Collections.Concurrent;

namespace SharpClip.Vision;

/// <summary>
/// Buffers a decode borrows and gives back: the file's bytes and the decoded samples. Why: on the <c>embed</c> bench's
/// photos (0.6 MP, 66 of 200 PNG) a fresh pair of arrays per image cost a quarter to a third of the whole
/// read-decode-resize-normalise time in zeroing, copying and (on a VM especially) page faults: 13.6–16.4 ms per file
/// with fresh arrays, 9.2–11.3 ms reused (<c>bench … preprocess --list</c>, alternated). Only the preprocessing path
/// uses them, where the decoded image is resized while the lease is held and never leaves.
/// </summary>
/// <remarks>
/// A bounded pool rather than a buffer per thread: a web server decodes on whichever of its many request threads runs,
/// and each would keep its largest image's buffers for good. At most <see cref="Kept"/> sets are kept, each buffer at
/// most <see cref="MaxKeptBytes"/>; a rent beyond them gets fresh buffers that the collector takes back.
/// </remarks>
internal sealed class DecodeScratch : IDisposable
{
    /// <summary>Buffers larger than this are used once and not kept (32 MiB: a 10-megapixel RGB photo, or its file).</summary>
    internal const int MaxKeptBytes = 32 << 20;

    /// <summary>Sets kept between uses: one per core, the most decodes that run at once to any profit.</summary>
    static readonly int Kept = Environment.ProcessorCount;

    static readonly ConcurrentBag<DecodeScratch> _free = [];

    byte[] _file = [], _samples = [];
    bool _rented;

    DecodeScratch() { }

    /// <summary>A set of buffers for one decode; dispose it once the decoded image is no longer read.</summary>
    public static DecodeScratch Rent()
    {
        var scratch = _free.TryTake(out var kept) ? kept : new DecodeScratch();
        scratch._rented = true;
        return scratch;
    }

    /// <summary>A buffer of at least <paramref name="length"/> bytes for a file's contents.</summary>
    public byte[] File(long length) => Take(ref _file, length);

    /// <summary>A buffer of at least <paramref name="length"/> bytes for decoded samples.</summary>
    public byte[] Samples(long length) => Take(ref _samples, length);

    byte[] Take(ref byte[] kept, long length)
    {
        if (!_rented) throw new ObjectDisposedException(nameof(DecodeScratch), "the decode buffers were given back");
        if (kept.Length >= length) return kept;
        // Not zeroed: every byte the caller reads is written first.
        var fresh = GC.AllocateUninitializedArray<byte>(checked((int)length));
        if (length <= MaxKeptBytes) kept = fresh;
        return fresh;
    }

    /// <summary>Gives the buffers back (kept for the next rent while fewer than <see cref="Kept"/> sets wait).</summary>
    public void Dispose()
    {
        if (!_rented) return;
        _rented = false;
        if (_free.Count < Kept) _free.Add(this);
    }
}
