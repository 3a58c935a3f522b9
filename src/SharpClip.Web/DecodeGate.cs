namespace SharpClip.Web;

/// <summary>
/// Bounds how many uploaded query images are decoded and embedded at once. A decode holds the full-resolution image
/// (a 7000×7000 upload is ~150 MB of pixels before resampling) and a core for seconds; without a bound, a handful of
/// concurrent uploads multiplies that and starves every other request. Requests beyond the bound wait their turn
/// asynchronously (no thread is held) for at most <see cref="MaxWait"/>, then are told to retry: a short burst is
/// absorbed, a sustained flood is refused instead of piling up buffered uploads in memory.
/// </summary>
public sealed class DecodeGate : IDisposable
{
    readonly SemaphoreSlim _slots;
    int _active, _waiting, _peak;

    public DecodeGate(int capacity, TimeSpan maxWait)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        MaxWait = maxWait;
        _slots = new SemaphoreSlim(capacity, capacity);
    }

    /// <summary>Decodes allowed at once.</summary>
    public int Capacity { get; }

    /// <summary>How long a request waits for a free slot before it is refused.</summary>
    public TimeSpan MaxWait { get; }

    /// <summary>Decodes running now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>Requests waiting for a slot now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>The most decodes that ever ran at once (never above <see cref="Capacity"/>).</summary>
    public int PeakActive => Volatile.Read(ref _peak);

    /// <summary>
    /// Waits for a slot; null when none freed up within <see cref="MaxWait"/>. Throws
    /// <see cref="OperationCanceledException"/> if the client goes away while waiting.
    /// </summary>
    public async Task<IDisposable?> EnterAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiting);
        bool entered;
        try { entered = await _slots.WaitAsync(MaxWait, cancellationToken); }
        finally { Interlocked.Decrement(ref _waiting); }
        if (!entered) return null;
        int now = Interlocked.Increment(ref _active);
        for (int peak = PeakActive; now > peak; peak = PeakActive)
            if (Interlocked.CompareExchange(ref _peak, now, peak) == peak) break;
        return new Slot(this);
    }

    void Release()
    {
        Interlocked.Decrement(ref _active);
        _slots.Release();
    }

    public void Dispose() => _slots.Dispose();

    sealed class Slot(DecodeGate gate) : IDisposable
    {
        int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) gate.Release();
        }
    }
}
