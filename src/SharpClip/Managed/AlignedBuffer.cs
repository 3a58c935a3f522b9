using System.Numerics;
using System.Runtime.InteropServices;

namespace SharpClip.Managed;

/// <summary>
/// Native float32 memory on a 64-byte boundary (one AVX-512 vector, one cache line): the kernels' weights and
/// activations live outside the GC heap so nothing moves under a pointer. Weights are freed on <see cref="Dispose"/>;
/// a call's working buffers (<see cref="Scratch"/>) go back to a bounded pool, so a long run's memory stays at one
/// batch's working set.
/// </summary>
internal sealed unsafe class AlignedBuffer : IDisposable
{
    /// <summary>Scratch memory the pool keeps for reuse at most (1 GiB): enough for the working buffers of a batch of
    /// RN50 or ViT-L images, so the next batch touches no new pages.</summary>
    const long PoolLimitFloats = 256L << 20;

    static readonly object _poolGate = new();
    static readonly Dictionary<long, Stack<nint>> _pool = [];
    static long _pooledFloats;

    float* _data;
    readonly long _poolCapacity;                                              // 0: not from the pool

    public AlignedBuffer(long length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "a buffer's length is not negative");
        Length = length;
        _data = (float*)NativeMemory.AlignedAlloc((nuint)(Math.Max(length, 16) * sizeof(float)), 64);
    }

    AlignedBuffer(float* data, long length, long capacity)
    {
        _data = data;
        Length = length;
        _poolCapacity = capacity;
    }

    /// <summary>A zero-filled buffer.</summary>
    public static AlignedBuffer Zeroed(long length)
    {
        var buffer = new AlignedBuffer(length);
        NativeMemory.Clear(buffer._data, (nuint)(length * sizeof(float)));
        return buffer;
    }

    /// <summary>
    /// A working buffer for one call (contents undefined), from a process-wide pool that <see cref="Dispose"/> returns
    /// it to. Why: a fresh multi-megabyte allocation is new pages from the kernel, touched for the first time on every
    /// call (<c>perf</c> put 15–18 % of an RN50 run's samples in the page-fault path, weight packing included; with the
    /// pool, batch 8 went from 13–17 to 27 images/s in the next run); reused buffers are already mapped. Capacities are
    /// powers of two, so a call with the same shapes finds last call's buffers again.
    /// </summary>
    public static AlignedBuffer Scratch(long length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "a buffer's length is not negative");
        long capacity = (long)BitOperations.RoundUpToPowerOf2((ulong)Math.Max(length, 1024));
        lock (_poolGate)
        {
            if (_pool.TryGetValue(capacity, out var free) && free.Count > 0)
            {
                _pooledFloats -= capacity;
                return new AlignedBuffer((float*)free.Pop(), length, capacity);
            }
        }
        return new AlignedBuffer((float*)NativeMemory.AlignedAlloc((nuint)(capacity * sizeof(float)), 64), length, capacity);
    }

    public long Length { get; }

    public float* Data => _data != null ? _data : throw new ObjectDisposedException(nameof(AlignedBuffer));

    public void Dispose()
    {
        if (_data == null) return;
        float* data = _data;
        _data = null;
        if (_poolCapacity > 0)
            lock (_poolGate)
            {
                if (_pooledFloats + _poolCapacity <= PoolLimitFloats)
                {
                    if (!_pool.TryGetValue(_poolCapacity, out var free)) _pool[_poolCapacity] = free = new Stack<nint>();
                    free.Push((nint)data);
                    _pooledFloats += _poolCapacity;
                    return;
                }
            }
        NativeMemory.AlignedFree(data);
    }
}
