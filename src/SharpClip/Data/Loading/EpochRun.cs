using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace SharpClip.Data.Loading;

/// <summary>
/// The machinery of one epoch: a producer thread (shard order → shuffle buffer → numbered slots), worker threads
/// (image pipeline per slot) and a batcher thread (slots in producer order → batches). The batcher consumes slots
/// in sequence, so batches do not depend on which worker finished first; a semaphore of
/// <see cref="ClipLoaderOptions.InFlightLimit"/> permits caps the samples between producer and batcher.
/// Threads are dedicated (not thread-pool), since they block on I/O and on each other.
/// </summary>
internal sealed class EpochRun : IDisposable
{
    private sealed class Slot(long seq, ImageTextSample sample, string caption)
    {
        public readonly long Seq = seq;
        public readonly ImageTextSample Sample = sample;
        public readonly string Caption = caption;
        public readonly ManualResetEventSlim Done = new(false);
        public float[]? Pixels;
        public Exception? Error;
        public bool Fatal;
    }

    private readonly IImageTextSource _source;
    private readonly ImagePipeline _images;
    private readonly CaptionTokenizer _tokenizer;
    private readonly ClipLoaderOptions _o;
    private readonly DataStats _stats;
    private readonly LoaderGauge _gauge;
    private readonly int _epoch;
    private readonly long _skipBatches;
    private readonly CancellationTokenSource _cts = new();
    private readonly SemaphoreSlim _permits;
    private readonly Channel<Slot> _ordered = Channel.CreateUnbounded<Slot>(new() { SingleWriter = true, SingleReader = true });
    private readonly Channel<Slot> _work = Channel.CreateUnbounded<Slot>(new() { SingleWriter = true });
    private readonly Channel<ClipBatch> _batches;
    private readonly List<Task> _threads = [];
    private Exception? _failure;

    public EpochRun(IImageTextSource source, ImagePipeline images, CaptionTokenizer tokenizer, ClipLoaderOptions options,
                    DataStats stats, LoaderGauge gauge, int epoch, long skipBatches)
    {
        _source = source;
        _images = images;
        _tokenizer = tokenizer;
        _o = options;
        _stats = stats;
        _gauge = gauge;
        _epoch = epoch;
        _skipBatches = skipBatches;
        _permits = new SemaphoreSlim(options.InFlightLimit, options.InFlightLimit);
        _batches = Channel.CreateBounded<ClipBatch>(new BoundedChannelOptions(options.PrefetchBatches) { SingleWriter = true, SingleReader = true });
    }

    public ChannelReader<ClipBatch> Batches => _batches.Reader;

    public void Start()
    {
        Spawn(Produce, () => { _ordered.Writer.TryComplete(); _work.Writer.TryComplete(); });
        for (int i = 0; i < _o.Workers; i++) Spawn(Work, () => { });
        Spawn(Assemble, () => _batches.Writer.TryComplete());
    }

    /// <summary>Rethrows the first error of any stage with its original stack.</summary>
    public void ThrowIfFailed()
    {
        if (Volatile.Read(ref _failure) is { } e) ExceptionDispatchInfo.Capture(e).Throw();
    }

    /// <summary>Cancels every stage and waits for the threads to finish.</summary>
    public async Task StopAsync()
    {
        _cts.Cancel();
        await Task.WhenAll(_threads).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _cts.Dispose();
        _permits.Dispose();
    }

    private void Spawn(Action body, Action always) =>
        _threads.Add(Task.Factory.StartNew(() =>
        {
            try { body(); }
            catch (OperationCanceledException) when (_cts.IsCancellationRequested) { }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
                _cts.Cancel();
            }
            finally { always(); }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));

    private void Produce()
    {
        var token = _cts.Token;
        var shards = _source.Shards.ToArray();
        if (_o.ShuffleShards) StableHash.Rng(_o.Seed, _epoch, 0x5348_4152).Shuffle(shards);
        var buffer = new ShuffleBuffer<ImageTextSample>(_o.ShuffleBuffer, StableHash.Rng(_o.Seed, _epoch, 0x4255_4646));
        long seq = 0;
        void Emit(ImageTextSample s)
        {
            _permits.Wait(token);
            _gauge.Enter();
            _stats.CountRead();
            var caption = _o.Captions == CaptionSelection.First ? s.Captions[0] : s.CaptionFor(_o.Seed, _epoch);
            var slot = new Slot(seq++, s, caption);
            _ordered.Writer.TryWrite(slot);
            _work.Writer.TryWrite(slot);
        }
        foreach (var shard in shards)
            foreach (var sample in shard.Read(_stats, token))
                if (buffer.Add(sample, out var emitted)) Emit(emitted);
        foreach (var s in buffer.Drain()) Emit(s);
    }

    private void Work()
    {
        var token = _cts.Token;
        var reader = _work.Reader;
        int expected = 3 * _o.ImageSize * _o.ImageSize;
        while (reader.WaitToReadAsync(token).AsTask().GetAwaiter().GetResult())
            while (reader.TryRead(out var slot))
            {
                token.ThrowIfCancellationRequested();
                try
                {
                    var px = _images(slot.Sample, StableHash.Rng(_o.Seed, _epoch, slot.Seq, 0x494D_4147));
                    if (px is not null && px.Length != expected)
                    {
                        slot.Fatal = true;
                        slot.Error = new InvalidOperationException(
                            $"image pipeline returned {px.Length} floats for '{slot.Sample.Image.Describe()}'; expected 3x{_o.ImageSize}x{_o.ImageSize} = {expected} (check ImageSize)");
                    }
                    else slot.Pixels = px;
                }
                catch (Exception e) { slot.Error = e; }
                slot.Done.Set();
            }
    }

    private void Assemble()
    {
        var token = _cts.Token;
        var reader = _ordered.Reader;
        int b = _o.BatchSize, chw = 3 * _o.ImageSize * _o.ImageSize;
        long batchIndex = 0;
        int consecutiveFailures = 0;
        float[]? pixels = null;
        var keys = new List<string>(b);
        var captions = new List<string>(b);

        while (reader.WaitToReadAsync(token).AsTask().GetAwaiter().GetResult())
            while (reader.TryRead(out var slot))
            {
                slot.Done.Wait(token);
                slot.Done.Dispose();
                _gauge.Leave();
                _permits.Release();
                if (slot.Fatal) throw slot.Error!;
                if (slot.Pixels is null)
                {
                    var reason = slot.Error is FileNotFoundException or DirectoryNotFoundException ? SkipReason.MissingImage : SkipReason.BrokenImage;
                    var why = slot.Error is null ? "pipeline returned no image" : $"{slot.Error.GetType().Name}: {slot.Error.Message}";
                    _stats.Skip(reason, $"{slot.Sample.Image.Describe()} ({why})");
                    if (++consecutiveFailures >= _o.MaxConsecutiveFailures)
                        throw new InvalidOperationException(
                            $"{consecutiveFailures} images in a row failed in the image pipeline ({_source.Name}); last: {slot.Sample.Image.Describe()}: {why}", slot.Error);
                    continue;
                }
                consecutiveFailures = 0;
                bool skipping = batchIndex < _skipBatches;
                if (!skipping)
                {
                    pixels ??= new float[b * chw];
                    Array.Copy(slot.Pixels, 0, pixels, keys.Count * chw, chw);
                }
                slot.Pixels = null;
                keys.Add(slot.Sample.Key);
                captions.Add(slot.Caption);
                if (keys.Count == b) Flush(ref pixels, keys, captions, ref batchIndex, skipping, token);
            }

        if (keys.Count > 0)
        {
            if (_o.DropLast) _stats.CountDropped(keys.Count);
            else Flush(ref pixels, keys, captions, ref batchIndex, batchIndex < _skipBatches, token);
        }
    }

    private void Flush(ref float[]? pixels, List<string> keys, List<string> captions, ref long batchIndex, bool skipping, CancellationToken token)
    {
        int n = keys.Count, chw = 3 * _o.ImageSize * _o.ImageSize;
        if (!skipping)
        {
            var ids = _tokenizer(captions);
            if (ids.Length != n) throw new InvalidOperationException($"caption tokenizer returned {ids.Length} rows for {n} captions");
            int ctx = ids.Length == 0 ? 0 : ids[0].Length;
            var flat = new long[n * ctx];
            for (int i = 0; i < n; i++)
            {
                if (ids[i].Length != ctx)
                    throw new InvalidOperationException($"caption tokenizer returned rows of different lengths ({ctx} and {ids[i].Length}); pad to the context length");
                ids[i].CopyTo(flat, i * ctx);
            }
            var px = pixels!;
            if (px.Length != n * chw) Array.Resize(ref px, n * chw);   // only the last, partial batch
            var batch = new ClipBatch(_epoch, batchIndex, _o.ImageSize, ctx, px, flat, keys.ToArray(), captions.ToArray());
            _batches.Writer.WriteAsync(batch, token).AsTask().GetAwaiter().GetResult();
            _stats.CountDelivered(n);
        }
        pixels = null;
        keys.Clear();
        captions.Clear();
        batchIndex++;
    }
}

/// <summary>Counts samples between producer and batcher and remembers the peak: how a test sees that prefetch is bounded.</summary>
internal sealed class LoaderGauge
{
    private int _current, _peak;
    public int Peak => Volatile.Read(ref _peak);

    public void Enter()
    {
        int now = Interlocked.Increment(ref _current);
        int peak;
        while (now > (peak = Volatile.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, peak) != peak) { }
    }

    public void Leave() => Interlocked.Decrement(ref _current);
}
