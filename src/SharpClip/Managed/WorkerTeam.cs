namespace SharpClip.Managed;

/// <summary>
/// The threads a managed-engine call splits its work over: the calling thread plus long-lived workers that spin
/// briefly, then sleep, between jobs. Work is handed out by claims, not fixed shares: each thread takes the next range
/// of items when it is free, so a worker that wakes late, or a core the host (or a busy neighbour) takes for a while,
/// costs the job only what is still in that thread's hands.
/// </summary>
/// <remarks>
/// <para>Why not <see cref="Parallel.For(int, int, Action{int})"/>: between two matrix products of a ViT layer its
/// thread-pool worker went back to the pool and was late to the next one; ViT-B/32 at batch 8 ran 1.45-1.6× faster on
/// 2 threads than on 1 with it, 1.66-1.77× with these workers (same kernels).</para>
/// <para>Why claims: with one fixed share per thread the caller waited for the worker in 9-16 % of its time on RN50 at
/// batch 1 (140 jobs per image, measured by timestamps around the wait): the worker started late (a few microseconds
/// when spinning, hundreds when it had gone to sleep) or its share ran longer, and the caller could only wait.</para>
/// <para>One job at a time: concurrent callers take turns (the cores are the limit either way); a job started from
/// inside a job runs on its caller's thread alone. The first exception a range throws is rethrown on the calling thread
/// after every claimed range has ended; ranges not yet claimed then never run.</para>
/// </remarks>
internal static class WorkerTeam
{
    /// <summary>One job: its items, the next unclaimed one, how many have ended.</summary>
    sealed class Job(int count, int grain, int threads, Action<int, int> body)
    {
        public readonly int Count = count, Grain = grain, Threads = threads;
        public readonly Action<int, int> Body = body;
        public int Next, Ended;
        public Exception? Failure;
    }

    /// <summary>Spins before a wait blocks: enough to bridge the gap between two operations of a layer (tens of
    /// microseconds), short enough that an idle team costs nothing.</summary>
    const int SpinCount = 200;

    static readonly object _gate = new();
    static readonly List<ManualResetEventSlim> _starts = [];
    static Job? _job;
    [ThreadStatic] static bool _inJob;

    /// <summary>
    /// Runs <paramref name="body"/>(from, to) over ranges that cover [0, <paramref name="count"/>) once, on up to
    /// <paramref name="threads"/> threads, and returns when all have ended. Every range starts at a multiple of
    /// <paramref name="grain"/> (ends there too, but for the last), so a body whose results depend only on where its
    /// grains start gives the same bits however the ranges fall. Ranges shrink as the work runs out (the first a
    /// thread takes is half of what is left over the threads, the last ones a grain), so threads that start together
    /// take long ranges and still end together.
    /// </summary>
    public static void Share(int count, int threads, int grain, Action<int, int> body)
    {
        if (grain < 1) throw new ArgumentOutOfRangeException(nameof(grain), grain, "a grain is at least one item");
        if (count <= 0) return;
        int grains = (count + grain - 1) / grain;
        threads = Math.Min(threads, grains);
        if (threads <= 1 || _inJob)
        {
            body(0, count);
            return;
        }
        var job = new Job(count, grain, threads, body);
        lock (_gate)
        {
            while (_starts.Count < threads - 1) StartWorker(_starts.Count + 1);
            Volatile.Write(ref _job, job);
            for (int i = 0; i < threads - 1; i++) _starts[i].Set();
            Work(job);
            var spin = new SpinWait();
            while (Volatile.Read(ref job.Ended) < count) spin.SpinOnce(sleep1Threshold: -1);
            Volatile.Write(ref _job, null);
        }
        if (job.Failure is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
    }

    /// <summary>
    /// A grain for <see cref="Share"/> when each grain is a chunk of work done whole: at most <paramref name="most"/>
    /// items, as many chunks as make a whole number per thread, of equal size (a multiple of <paramref name="multiple"/>
    /// when rounding up to one keeps the count). Why: RN50's first convolution at batch 1 gathers 12,544 rows in chunks
    /// of at most 4,092; on 2 threads those were 4,092 ×3 and 268, one thread taking 8,184 rows and the other 4,360; as
    /// 4 chunks of 3,144 it ran 0.24 ms against 0.30–0.35 (three alternations). Winograd's tiles keep their many chunks
    /// of whole 12-row tiles: evened out (to 66 tiles) stem.conv2 lost 10 %.
    /// </summary>
    public static int EvenChunk(int items, int most, int threads, int multiple)
    {
        if (items <= 0) return 1;
        int t = Math.Max(threads, 1);
        int chunks = (items + most - 1) / most;
        chunks = (chunks + t - 1) / t * t;
        int chunk = (items + chunks - 1) / chunks;
        int rounded = (chunk + multiple - 1) / multiple * multiple;
        return rounded <= most && (items + rounded - 1) / rounded == (items + chunk - 1) / chunk ? rounded : chunk;
    }

    /// <summary>Claims and runs ranges of <paramref name="job"/> until none are left.</summary>
    static void Work(Job job)
    {
        _inJob = true;
        try
        {
            int start = Volatile.Read(ref job.Next);
            while (start < job.Count)
            {
                // Half of what is left per thread, in whole grains.
                int size = Math.Max(job.Grain, (job.Count - start) / (2 * job.Threads) / job.Grain * job.Grain);
                int end = Math.Min(job.Count, start + size);
                int seen = Interlocked.CompareExchange(ref job.Next, end, start);
                if (seen != start)
                {
                    start = seen;
                    continue;
                }
                try
                {
                    job.Body(start, end);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref job.Failure, e, null);
                    // Nothing unclaimed runs after a failure: the rest counts as ended.
                    int rest = Interlocked.Exchange(ref job.Next, job.Count);
                    if (rest < job.Count) Interlocked.Add(ref job.Ended, job.Count - rest);
                }
                finally
                {
                    Interlocked.Add(ref job.Ended, end - start);
                }
                start = Volatile.Read(ref job.Next);
            }
        }
        finally
        {
            _inJob = false;
        }
    }

    static void StartWorker(int index)
    {
        var start = new ManualResetEventSlim(false, SpinCount);
        _starts.Add(start);
        var thread = new Thread(() => Loop(start)) { IsBackground = true, Name = $"SharpClip managed engine {index}" };
        thread.Start();
    }

    static void Loop(ManualResetEventSlim start)
    {
        while (true)
        {
            start.Wait();
            start.Reset();
            // The job in hand when woken, or a later one (a worker woken late may find its job over: it claims nothing).
            if (Volatile.Read(ref _job) is { } job) Work(job);
        }
    }
}
