namespace SharpClip.Managed;

/// <summary>
/// The threads a managed-engine call splits its work over: the calling thread plus long-lived workers that spin
/// briefly, then sleep, between parts. Why not <see cref="Parallel.For(int, int, Action{int})"/>: between two matrix
/// products of a ViT layer its thread-pool worker went back to the pool and was late to the next one; ViT-B/32 at
/// batch 8 ran 1.45-1.6× faster on 2 threads than on 1 with it, 1.66-1.77× with these workers (same kernels).
/// </summary>
/// <remarks>
/// One job at a time: concurrent callers take turns (the cores are the limit either way). A part must not start
/// another job. The first exception a part throws is rethrown on the calling thread after every part has ended.
/// </remarks>
internal static class WorkerTeam
{
    sealed class Worker
    {
        public readonly ManualResetEventSlim Start = new(false, SpinCount);
        public int Index;
    }

    /// <summary>Spins before a wait blocks: enough to bridge the gap between two operations of a layer (tens of
    /// microseconds), short enough that an idle team costs nothing.</summary>
    const int SpinCount = 200;

    static readonly object _gate = new();
    static readonly ManualResetEventSlim _finished = new(false, SpinCount);
    static readonly List<Worker> _workers = [];
    static Action<int>? _body;
    static int _pending;
    static Exception? _failure;

    /// <summary>Runs <paramref name="body"/>(0 … <paramref name="parts"/>−1), part 0 on the calling thread, and returns
    /// when all have ended.</summary>
    public static void Run(int parts, Action<int> body)
    {
        if (parts <= 1)
        {
            body(0);
            return;
        }
        lock (_gate)
        {
            while (_workers.Count < parts - 1) StartWorker(_workers.Count + 1);
            _body = body;
            _failure = null;
            _finished.Reset();
            Volatile.Write(ref _pending, parts - 1);
            for (int i = 0; i < parts - 1; i++) _workers[i].Start.Set();
            try
            {
                body(0);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
            _finished.Wait();
            _body = null;
            if (_failure is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    static void StartWorker(int index)
    {
        var worker = new Worker { Index = index };
        _workers.Add(worker);
        var thread = new Thread(() => Loop(worker)) { IsBackground = true, Name = $"SharpClip managed engine {index}" };
        thread.Start();
    }

    static void Loop(Worker worker)
    {
        while (true)
        {
            worker.Start.Wait();
            worker.Start.Reset();
            try
            {
                _body!(worker.Index);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
            if (Interlocked.Decrement(ref _pending) == 0) _finished.Set();
        }
    }
}
