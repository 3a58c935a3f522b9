using System.Runtime.CompilerServices;

namespace SharpClip.Data.Loading;

/// <summary>
/// Streams training batches from any <see cref="IImageTextSource"/>: per epoch, the shards are shuffled, samples pass
/// a bounded shuffle buffer, parallel workers run the caller's <see cref="ImagePipeline"/> (decode + augment), and
/// captions are tokenised per batch. Memory is bounded by the options, not the dataset; the output is a pure
/// function of (source, seed, epoch), whatever the number of workers. Broken images are skipped and counted in
/// <see cref="Stats"/>; a malformed dataset file or a failing tokenizer stops the epoch with its exception.
/// </summary>
public sealed class ClipDataLoader
{
    private readonly ImagePipeline _images;
    private readonly CaptionTokenizer _tokenizer;
    private readonly LoaderGauge _gauge = new();

    public ClipDataLoader(IImageTextSource source, ImagePipeline images, CaptionTokenizer tokenizer, ClipLoaderOptions options, DataStats? stats = null)
    {
        Source = source;
        _images = images;
        _tokenizer = tokenizer;
        Options = options.Validate();
        Stats = stats ?? new DataStats();
    }

    public IImageTextSource Source { get; }
    public ClipLoaderOptions Options { get; }

    /// <summary>Read/delivered/skipped counts, accumulated over every epoch read through this loader.</summary>
    public DataStats Stats { get; }

    /// <summary>The most samples ever in flight at once; never above <see cref="ClipLoaderOptions.InFlightLimit"/>.</summary>
    public int PeakInFlight => _gauge.Peak;

    /// <summary>Batches per epoch if nothing is skipped, when the source knows its size; for schedules. Else null.</summary>
    public long? BatchesPerEpochHint => Source.CountHint is { } n
        ? (Options.DropLast ? n / Options.BatchSize : (n + Options.BatchSize - 1) / Options.BatchSize)
        : null;

    /// <summary>
    /// The batches of one epoch. <paramref name="skipBatches"/> resumes mid-epoch: the first batches are assembled
    /// (so skips land exactly as in the uninterrupted run) but not tokenised or returned. Leaving the loop early stops
    /// the worker threads.
    /// </summary>
    public async IAsyncEnumerable<ClipBatch> ReadEpochAsync(int epoch, long skipBatches = 0,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skipBatches);
        using var run = new EpochRun(Source, _images, _tokenizer, Options, Stats, _gauge, epoch, skipBatches);
        run.Start();
        try
        {
            var batches = run.Batches;
            while (await batches.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                while (batches.TryRead(out var batch))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return batch;
                }
            run.ThrowIfFailed();
        }
        finally
        {
            await run.StopAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Blocking form of <see cref="ReadEpochAsync"/> for synchronous training loops.</summary>
    public IEnumerable<ClipBatch> ReadEpoch(int epoch, long skipBatches = 0, CancellationToken cancellationToken = default)
    {
        var e = ReadEpochAsync(epoch, skipBatches, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (e.MoveNextAsync().AsTask().GetAwaiter().GetResult())
                yield return e.Current;
        }
        finally
        {
            e.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
