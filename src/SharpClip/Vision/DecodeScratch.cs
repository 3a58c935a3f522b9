using System.Buffers;

namespace SharpClip.Vision;

/// <summary>
/// The buffers one decode borrows from the shared array pool: the file's bytes and the decoded samples, given back on
/// <see cref="Dispose"/>. Why: on the <c>embed</c> bench's photos (0.6 MP, 66 of 200 PNG) a fresh pair of arrays per
/// image cost a quarter to a third of the whole read-decode-resize-normalise time in zeroing, copying and (on a VM
/// especially) page faults: 13.3–16.9 ms per file with fresh arrays, 9.9–10.2 ms pooled (<c>bench … preprocess
/// --list</c>, alternated). Only the preprocessing path uses it, where the decoded image is resized while the lease is
/// held and never leaves. The runtime's pool bounds what it keeps and trims it when memory runs short.
/// </summary>
internal sealed class DecodeScratch : IDisposable
{
    byte[]? _file, _samples;
    bool _disposed;

    /// <summary>A buffer of at least <paramref name="length"/> bytes for a file's contents.</summary>
    public byte[] File(long length) => Take(ref _file, length);

    /// <summary>A buffer of at least <paramref name="length"/> bytes for decoded samples.</summary>
    public byte[] Samples(long length) => Take(ref _samples, length);

    byte[] Take(ref byte[]? held, long length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (held is { } current)
        {
            if (current.Length >= length) return current;
            held = null;                                    // given back before renting, so a failed rent cannot return it twice
            ArrayPool<byte>.Shared.Return(current);
        }
        return held = ArrayPool<byte>.Shared.Rent(checked((int)length));
    }

    /// <summary>Gives the buffers back to the pool; the images decoded into them must not be read after this.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_file is not null) ArrayPool<byte>.Shared.Return(_file);
        if (_samples is not null) ArrayPool<byte>.Shared.Return(_samples);
        _file = _samples = null;
    }
}
