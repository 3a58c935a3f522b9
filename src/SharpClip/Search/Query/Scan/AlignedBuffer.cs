using System.Runtime.CompilerServices;

namespace SharpClip.Search;

/// <summary>
/// A pinned managed array whose first element starts on a 64-byte boundary (one cache line, one AVX-512 load).
/// Pinned on the Pinned Object Heap, so raw pointers into it stay valid for its lifetime without fixed blocks, and
/// the GC still owns the memory: nothing to free, nothing to leak. The contents start uninitialised.
/// </summary>
internal sealed unsafe class AlignedBuffer<T> where T : unmanaged
{
    const int Alignment = 64;
    readonly T[] array;
    readonly int offset;

    public AlignedBuffer(long length)
    {
        long padded = length + Alignment / sizeof(T);
        if (length < 0 || padded > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"a buffer holds at most {Array.MaxLength - Alignment} {typeof(T).Name} values");
        array = GC.AllocateUninitializedArray<T>((int)padded, pinned: true);
        long address = (long)Unsafe.AsPointer(ref array[0]);
        offset = (int)((Alignment - address % Alignment) % Alignment / sizeof(T));
        Length = length;
        Pointer = (T*)Unsafe.AsPointer(ref array[offset]);
    }

    public long Length { get; }

    /// <summary>Address of element 0 (64-byte aligned; stable because the array is pinned).</summary>
    public T* Pointer { get; }

    public long Bytes => (long)array.Length * sizeof(T);

    public Span<T> Slice(long start, int length) => array.AsSpan(offset + checked((int)start), length);
}
