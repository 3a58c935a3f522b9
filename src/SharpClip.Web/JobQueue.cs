using System.Security.Cryptography;

namespace SharpClip.Web;

/// <summary>Where a job is in its life.</summary>
public enum JobState { Queued, Running, Done, Failed, Cancelled }

/// <summary>
/// One piece of slow work in a <see cref="JobQueue"/>: its state, progress in units of the work's own (denoising
/// steps, image tokens), its result or error, and a cancellation the work honours between units. Requests only read it;
/// the queue's one worker thread runs it.
/// </summary>
public sealed class Job : IProgress<int>
{
    readonly CancellationTokenSource _cancel = new();
    readonly Func<Job, CancellationToken, object?> _work;
    int _state, _done;

    internal Job(int total, Func<Job, CancellationToken, object?> work)
    {
        Total = total;
        _work = work;
    }

    /// <summary>An unguessable id: a job's images are reachable only by whoever asked for them (or was told the id).</summary>
    public string Id { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    public JobState State => (JobState)Volatile.Read(ref _state);

    /// <summary>Units done so far (as the work reports them).</summary>
    public int Done => Volatile.Read(ref _done);

    /// <summary>Units the work takes.</summary>
    public int Total { get; }

    /// <summary>Why the job failed: the work's own message, never a stack trace.</summary>
    public string? Error { get; private set; }

    /// <summary>What the work returned, once <see cref="State"/> is <see cref="JobState.Done"/>.</summary>
    public object? Result { get; private set; }

    /// <summary>Whether someone asked to cancel (a running job stops at its next unit).</summary>
    public bool CancelRequested => _cancel.IsCancellationRequested;

    public DateTime CreatedUtc { get; } = DateTime.UtcNow;

    public DateTime? FinishedUtc { get; private set; }

    void IProgress<int>.Report(int value) => Volatile.Write(ref _done, value);

    internal void RequestCancel()
    {
        try { _cancel.Cancel(); }
        catch (ObjectDisposedException) { } // finished and forgotten meanwhile
    }

    internal void Run()
    {
        if (_cancel.IsCancellationRequested) { Finish(JobState.Cancelled); return; }
        Volatile.Write(ref _state, (int)JobState.Running);
        try
        {
            Result = _work(this, _cancel.Token);
            Finish(JobState.Done);
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested) { Finish(JobState.Cancelled); }
        catch (Exception e)
        {
            Error = e.Message;
            Finish(JobState.Failed);
        }
    }

    internal void Finish(JobState state)
    {
        FinishedUtc = DateTime.UtcNow;
        Volatile.Write(ref _state, (int)state);
    }

    internal void Forget() => _cancel.Dispose();
}

/// <summary>
/// Slow jobs run one at a time, in order, on one dedicated thread — a request never holds a thread while a job runs; it
/// enqueues and returns, and the client polls the job. The line behind the running job is bounded
/// (<see cref="MaxWaiting"/>): <see cref="TryEnqueue"/> says no at once when it is full. Finished jobs are remembered
/// (the newest <c>keepFinished</c>) so their results can be fetched; older ones are handed to <c>forget</c> (which
/// deletes their files) and dropped.
/// </summary>
public sealed class JobQueue : IDisposable
{
    readonly object _gate = new();
    readonly LinkedList<Job> _waiting = new();
    readonly Queue<Job> _finished = new();
    readonly Dictionary<string, Job> _jobs = new(StringComparer.Ordinal);
    readonly SemaphoreSlim _signal = new(0);
    readonly CancellationTokenSource _stopping = new();
    readonly Thread _worker;
    readonly int _keepFinished;
    readonly Action<Job>? _forget;
    Job? _running;
    bool _disposed;

    /// <param name="maxWaiting">Jobs that may wait behind the running one (0: only when nothing runs).</param>
    /// <param name="keepFinished">Finished jobs remembered, newest first.</param>
    /// <param name="forget">Called (on the worker thread or in <see cref="Dispose"/>) for a finished job that is dropped.</param>
    public JobQueue(int maxWaiting, int keepFinished, Action<Job>? forget = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxWaiting);
        ArgumentOutOfRangeException.ThrowIfLessThan(keepFinished, 1);
        MaxWaiting = maxWaiting;
        _keepFinished = keepFinished;
        _forget = forget;
        _worker = new Thread(Work) { IsBackground = true, Name = "sharpclip job queue" };
        _worker.Start();
    }

    public int MaxWaiting { get; }

    /// <summary>Jobs waiting now (not counting the running one).</summary>
    public int Waiting
    {
        get { lock (_gate) return _waiting.Count; }
    }

    /// <summary>The running job, if any.</summary>
    public Job? Running
    {
        get { lock (_gate) return _running; }
    }

    /// <summary>
    /// Queues <paramref name="work"/> (called on the worker thread with the job, as its progress, and its cancellation);
    /// null when <see cref="MaxWaiting"/> jobs already wait behind a running one.
    /// </summary>
    public Job? TryEnqueue(int total, Func<Job, CancellationToken, object?> work)
    {
        var job = new Job(total, work);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_waiting.Count + (_running is null ? 0 : 1) > MaxWaiting) return null; // one runs, MaxWaiting wait
            _waiting.AddLast(job);
            _jobs[job.Id] = job;
        }
        _signal.Release();
        return job;
    }

    public Job? Find(string id)
    {
        lock (_gate) return _jobs.GetValueOrDefault(id);
    }

    /// <summary>A waiting job's place in line (1 = next to run); 0 when it is not waiting.</summary>
    public int PositionOf(Job job)
    {
        lock (_gate)
        {
            int position = 1;
            for (var node = _waiting.First; node is not null; node = node.Next, position++)
                if (ReferenceEquals(node.Value, job)) return position;
            return 0;
        }
    }

    /// <summary>A waiting job leaves the line now; a running one stops at its next unit. A finished job is left as it is.</summary>
    public void Cancel(Job job)
    {
        lock (_gate)
        {
            if (_waiting.Remove(job))
            {
                job.Finish(JobState.Cancelled);
                Retire(job);
                return;
            }
        }
        if (job.State == JobState.Running) job.RequestCancel();
    }

    void Work()
    {
        while (true)
        {
            try { _signal.Wait(_stopping.Token); }
            catch (OperationCanceledException) { return; }
            Job job;
            lock (_gate)
            {
                if (_waiting.First is not { } first) continue; // it was cancelled while waiting
                _waiting.RemoveFirst();
                _running = job = first.Value;
            }
            job.Run();
            lock (_gate)
            {
                _running = null;
                Retire(job);
            }
        }
    }

    /// <summary>Remembers a finished job; drops the oldest beyond the limit. Called under the lock.</summary>
    void Retire(Job job)
    {
        _finished.Enqueue(job);
        while (_finished.Count > _keepFinished)
        {
            var old = _finished.Dequeue();
            _jobs.Remove(old.Id);
            Drop(old);
        }
    }

    void Drop(Job job)
    {
        try { _forget?.Invoke(job); }
        catch (IOException) { } // a file still open elsewhere: the temporary folder goes with the app
        catch (UnauthorizedAccessException) { }
        job.Forget();
    }

    /// <summary>Cancels every job, waits for the running one to stop at its next unit, and forgets them all.</summary>
    public void Dispose()
    {
        Job? running;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var job in _waiting) job.Finish(JobState.Cancelled);
            _waiting.Clear();
            running = _running;
        }
        running?.RequestCancel();
        _stopping.Cancel();
        _worker.Join();
        lock (_gate)
        {
            foreach (var job in _jobs.Values) Drop(job);
            _jobs.Clear();
            _finished.Clear();
        }
        _signal.Dispose();
        _stopping.Dispose();
    }
}
