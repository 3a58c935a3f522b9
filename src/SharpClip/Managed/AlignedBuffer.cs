using System.Runtime.InteropServices;

namespace SharpClip.Managed;

/// <summary>
/// Native float32 memory on a 64-byte boundary (one AVX-512 vector, one cache line), freed on <see cref="Dispose"/>:
/// the kernels' weights and activations live outside the GC heap so nothing moves under a pointer and a long run's
/// memory is returned the moment a batch ends.
/// </summary>
internal sealed unsafe class AlignedBuffer : IDisposable
{
    float* _data;

    public AlignedBuffer(long length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "a buffer's length is not negative");
        Length = length;
        _data = (float*)NativeMemory.AlignedAlloc((nuint)(Math.Max(length, 16) * sizeof(float)), 64);
    }

    /// <summary>A zero-filled buffer.</summary>
    public static AlignedBuffer Zeroed(long length)
    {
        var buffer = new AlignedBuffer(length);
        NativeMemory.Clear(buffer._data, (nuint)(length * sizeof(float)));
        return buffer;
    }

    public long Length { get; }

    public float* Data => _data != null ? _data : throw new ObjectDisposedException(nameof(AlignedBuffer));

    public void Dispose()
    {
        if (_data == null) return;
        NativeMemory.AlignedFree(_data);
        _data = null;
    }
}
