using SharpClip.Data;
using SharpClip.Data.Loading;

namespace SharpClip.Tests.Data;

public class ClipDataLoaderTests
{
    private const int Size = 4, Ctx = 6;

    /// <summary>An in-memory source of tiny raw images with three captions each; counts what it has produced.</summary>
    private sealed class CountingSource(long count, int shardSize, Func<long, bool>? broken = null) : IImageTextSource
    {
        private readonly long _count = count;
        private readonly int _shardSize = shardSize;
        private readonly Func<long, bool>? _broken = broken;
        private long _produced;
        public long Produced => Interlocked.Read(ref _produced);
        public string Name => "counting";
        public long? CountHint => _count;

        public IReadOnlyList<IImageTextShard> Shards =>
            Enumerable.Range(0, (int)((_count + _shardSize - 1) / _shardSize)).Select(k => (IImageTextShard)new Shard(this, k)).ToList();

        private sealed class Shard(CountingSource s, int k) : IImageTextShard
        {
            public string Name => $"shard {k}";
            public IEnumerable<ImageTextSample> Read(DataStats stats, CancellationToken ct = default)
            {
                for (long i = (long)k * s._shardSize; i < Math.Min(s._count, (long)(k + 1) * s._shardSize); i++)
                {
                    Interlocked.Increment(ref s._produced);
                    var px = new byte[Size * Size * 3];
                    for (int j = 0; j < px.Length; j++) px[j] = (byte)(i * 7 + j);
                    ImageSource image = s._broken?.Invoke(i) == true ? new ImageFile($"/nonexistent/{i}.jpg") : new RawRgbImage(Size, Size, px);
                    yield return new ImageTextSample($"s{i}", image, [$"cap{i} a", $"cap{i} b", $"cap{i} c"]);
                }
            }
        }
    }

    /// <summary>Bytes to floats plus one random value, so augmentation randomness is part of what must be reproducible.</summary>
    private static float[]? Pipeline(ImageTextSample s, Random rng)
    {
        if (s.Image is ImageFile f) throw new FileNotFoundException("gone", f.Path);
        var raw = (RawRgbImage)s.Image;
        var chw = new float[3 * Size * Size];
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++)
                for (int c = 0; c < 3; c++)
                    chw[c * Size * Size + y * Size + x] = raw.RgbHwc[(y * Size + x) * 3 + c] / 255f;
        chw[0] += rng.NextSingle();
        return chw;
    }

    private static long[][] Tokenize(IReadOnlyList<string> captions) =>
        captions.Select(c => Enumerable.Range(0, Ctx).Select(j => j < c.Length ? (long)c[j] : 0L).ToArray()).ToArray();

    private static ClipLoaderOptions Options(int seed = 1, int workers = 2) => new()
    {
        BatchSize = 8, ImageSize = Size, Seed = seed, ShuffleBuffer = 16, Workers = workers, PrefetchBatches = 2,
    };

    private static List<ClipBatch> Epoch(ClipDataLoader loader, int epoch, long skip = 0) => loader.ReadEpoch(epoch, skip).ToList();

    [Fact]
    public void Same_seed_gives_the_same_batches_whatever_the_worker_count()
    {
        var a = Epoch(new ClipDataLoader(new CountingSource(100, 10), Pipeline, Tokenize, Options(workers: 1)), 0);
        var b = Epoch(new ClipDataLoader(new CountingSource(100, 10), Pipeline, Tokenize, Options(workers: 3)), 0);
        Assert.Equal(12, a.Count);   // 100 / 8, last partial batch dropped
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Keys, b[i].Keys);
            Assert.Equal(a[i].Captions, b[i].Captions);
            Assert.Equal(a[i].Pixels, b[i].Pixels);
            Assert.Equal(a[i].TokenIds, b[i].TokenIds);
            Assert.Equal(i, a[i].Index);
        }
    }

    [Fact]
    public void Batches_hold_the_right_pixels_tokens_and_shapes()
    {
        var batch = Epoch(new ClipDataLoader(new CountingSource(20, 10), Pipeline, Tokenize, Options()), 0)[0];
        Assert.Equal(8, batch.Count);
        Assert.Equal(8 * 3 * Size * Size, batch.Pixels.Length);
        Assert.Equal(8 * Ctx, batch.TokenIds.Length);
        Assert.Equal(Ctx, batch.ContextLength);
        for (int b = 0; b < batch.Count; b++)
        {
            long i = long.Parse(batch.Keys[b][1..]);
            // Green channel of pixel (0, 1): HWC byte index 4, value (i*7 + 4) mod 256.
            Assert.Equal((byte)(i * 7 + 4) / 255f, batch.Pixels[b * 3 * Size * Size + 1 * Size * Size + 1]);
            Assert.StartsWith($"cap{i} ", batch.Captions[b]);
            Assert.Equal(Tokenize([batch.Captions[b]])[0], batch.TokenIds.AsSpan(b * Ctx, Ctx).ToArray());
        }
    }

    [Fact]
    public void An_epoch_is_a_shuffled_permutation_that_changes_with_epoch_and_seed()
    {
        var loader = new ClipDataLoader(new CountingSource(96, 12), Pipeline, Tokenize, Options());
        var e0 = Epoch(loader, 0).SelectMany(b => b.Keys).ToList();
        var e1 = Epoch(loader, 1).SelectMany(b => b.Keys).ToList();
        var inOrder = Enumerable.Range(0, 96).Select(i => $"s{i}").ToList();
        Assert.Equal(inOrder.Order(StringComparer.Ordinal), e0.Order(StringComparer.Ordinal));
        Assert.Equal(inOrder.Order(StringComparer.Ordinal), e1.Order(StringComparer.Ordinal));
        Assert.NotEqual(inOrder, e0);
        Assert.NotEqual(e0, e1);
        var otherSeed = Epoch(new ClipDataLoader(new CountingSource(96, 12), Pipeline, Tokenize, Options(seed: 2)), 0).SelectMany(b => b.Keys);
        Assert.NotEqual(e0, otherSeed);
    }

    [Fact]
    public void The_caption_drawn_depends_on_the_epoch_but_not_the_order()
    {
        var loader = new ClipDataLoader(new CountingSource(64, 8), Pipeline, Tokenize, Options());
        Dictionary<string, string> Captions(int epoch) =>
            Epoch(loader, epoch).SelectMany(b => b.Keys.Zip(b.Captions)).ToDictionary(p => p.First, p => p.Second);
        var c0 = Captions(0);
        var c1 = Captions(1);
        Assert.True(c0.Keys.Count(k => c0[k] != c1[k]) > 20);   // 3 captions each: ~2/3 change
        // Across epochs every caption of a sample gets used.
        var seen = Enumerable.Range(0, 12).SelectMany(e => Captions(e)).Where(p => p.Key == "s5").Select(p => p.Value).Distinct().Count();
        Assert.Equal(3, seen);
        // The choice is a function of (seed, epoch, key): the same with a different shuffle buffer.
        var other = new ClipDataLoader(new CountingSource(64, 8), Pipeline, Tokenize, Options() with { ShuffleBuffer = 0, ShuffleShards = false });
        var c0b = Epoch(other, 0).SelectMany(b => b.Keys.Zip(b.Captions)).ToDictionary(p => p.First, p => p.Second);
        Assert.Equal(c0.OrderBy(p => p.Key), c0b.Where(p => c0.ContainsKey(p.Key)).OrderBy(p => p.Key));
    }

    [Fact]
    public void Without_shuffling_and_drop_last_every_sample_comes_in_file_order()
    {
        var options = ClipLoaderOptions.ForEvaluation(batchSize: 8, imageSize: Size) with { Workers = 3 };
        var batches = Epoch(new ClipDataLoader(new CountingSource(21, 5), Pipeline, Tokenize, options), 0);
        Assert.Equal([8, 8, 5], batches.Select(b => b.Count));
        Assert.Equal(Enumerable.Range(0, 21).Select(i => $"s{i}"), batches.SelectMany(b => b.Keys));
        Assert.All(batches.SelectMany(b => b.Keys.Zip(b.Captions)), p => Assert.Equal($"cap{p.First[1..]} a", p.Second));
        Assert.Equal(5 * 3 * Size * Size, batches[2].Pixels.Length);
    }

    [Fact]
    public void Broken_and_missing_images_are_skipped_and_counted()
    {
        var source = new CountingSource(40, 10, broken: i => i % 10 == 3);
        ImagePipeline pipeline = (s, rng) => s.Key == "s17" ? null : s.Key == "s18" ? throw new InvalidDataException("corrupt") : Pipeline(s, rng);
        var loader = new ClipDataLoader(source, pipeline, Tokenize, ClipLoaderOptions.ForEvaluation(8, Size));
        var keys = Epoch(loader, 0).SelectMany(b => b.Keys).ToList();
        Assert.Equal(34, keys.Count);
        Assert.DoesNotContain("s13", keys);
        Assert.DoesNotContain("s17", keys);
        Assert.Equal(4, loader.Stats.Skipped(SkipReason.MissingImage));
        Assert.Equal(2, loader.Stats.Skipped(SkipReason.BrokenImage));
        Assert.Equal(40, loader.Stats.Read);
        Assert.Equal(34, loader.Stats.Delivered);
        Assert.Contains(loader.Stats.Examples, e => e.Contains("corrupt"));
    }

    [Fact]
    public void Drop_last_counts_the_remainder()
    {
        var loader = new ClipDataLoader(new CountingSource(21, 5), Pipeline, Tokenize, Options());
        Assert.Equal(2, Epoch(loader, 0).Count);
        Assert.Equal(5, loader.Stats.DroppedRemainder);
        Assert.Equal(2, loader.BatchesPerEpochHint);
    }

    [Fact]
    public void Skipping_batches_resumes_exactly_where_an_uninterrupted_epoch_would_be()
    {
        var full = Epoch(new ClipDataLoader(new CountingSource(80, 10, broken: i => i == 5), Pipeline, Tokenize, Options()), 3);
        var resumed = Epoch(new ClipDataLoader(new CountingSource(80, 10, broken: i => i == 5), Pipeline, Tokenize, Options()), 3, skip: 4);
        Assert.Equal(full.Count - 4, resumed.Count);
        for (int i = 0; i < resumed.Count; i++)
        {
            Assert.Equal(full[i + 4].Index, resumed[i].Index);
            Assert.Equal(full[i + 4].Keys, resumed[i].Keys);
            Assert.Equal(full[i + 4].Pixels, resumed[i].Pixels);
        }
    }

    [Fact]
    public void Prefetch_is_bounded_so_memory_stays_flat_on_a_huge_source()
    {
        var source = new CountingSource(10_000_000, 1000);
        var options = Options(workers: 3) with { ShuffleBuffer = 50 };
        var loader = new ClipDataLoader(source, Pipeline, Tokenize, options);
        int taken = 0;
        foreach (var batch in loader.ReadEpoch(0))
        {
            Thread.Sleep(20);   // a slow consumer: the producer must wait, not run ahead
            if (++taken == 5) break;
        }
        Thread.Sleep(100);
        // What was read from the source: consumed + shuffle buffer + the one the producer holds while waiting for a
        // permit + in flight + the batch being built + ready batches. None of it grows with the dataset.
        long bound = taken * options.BatchSize + options.ShuffleBuffer + 1 + options.InFlightLimit + options.BatchSize * (1 + options.PrefetchBatches);
        Assert.InRange(source.Produced, taken * options.BatchSize, bound);
        Assert.InRange(loader.PeakInFlight, 1, options.InFlightLimit);
    }

    [Fact]
    public void Cancellation_stops_the_epoch()
    {
        var loader = new ClipDataLoader(new CountingSource(10_000_000, 1000), Pipeline, Tokenize, Options());
        using var cts = new CancellationTokenSource();
        int n = 0;
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var _ in loader.ReadEpoch(0, 0, cts.Token))
                if (++n == 3) cts.Cancel();
        });
        Assert.Equal(3, n);
    }

    [Fact]
    public void A_reader_error_reaches_the_consumer()
    {
        var source = new FailingSource();
        var loader = new ClipDataLoader(source, Pipeline, Tokenize, Options());
        var e = Assert.Throws<DataFormatException>(() => Epoch(loader, 0));
        Assert.Equal("bad.csv", e.File);
    }

    private sealed class FailingSource : IImageTextSource
    {
        public string Name => "failing";
        public long? CountHint => null;
        public IReadOnlyList<IImageTextShard> Shards => [new Shard()];
        private sealed class Shard : IImageTextShard
        {
            public string Name => "bad.csv";
            public IEnumerable<ImageTextSample> Read(DataStats stats, CancellationToken ct = default)
            {
                for (int i = 0; i < 30; i++)
                    yield return new ImageTextSample($"s{i}", new RawRgbImage(Size, Size, new byte[Size * Size * 3]), ["x"]);
                throw new DataFormatException("bad.csv", 31, "caption", "unterminated quoted field");
            }
        }
    }

    [Fact]
    public void A_pipeline_that_fails_on_everything_stops_instead_of_skipping_forever()
    {
        var loader = new ClipDataLoader(new CountingSource(1000, 100), (_, _) => throw new NotSupportedException("no decoder"), Tokenize,
            Options() with { MaxConsecutiveFailures = 50 });
        var e = Assert.Throws<InvalidOperationException>(() => Epoch(loader, 0));
        Assert.Contains("50 images in a row", e.Message);
        Assert.IsType<NotSupportedException>(e.InnerException);
    }

    [Fact]
    public void A_pipeline_returning_the_wrong_size_is_an_error_not_a_skip()
    {
        var loader = new ClipDataLoader(new CountingSource(50, 10), (_, _) => new float[5], Tokenize, Options());
        var e = Assert.Throws<InvalidOperationException>(() => Epoch(loader, 0));
        Assert.Contains("ImageSize", e.Message);
    }

    [Fact]
    public async Task The_async_form_gives_the_same_batches()
    {
        var sync = Epoch(new ClipDataLoader(new CountingSource(50, 10), Pipeline, Tokenize, Options()), 2);
        var loader = new ClipDataLoader(new CountingSource(50, 10), Pipeline, Tokenize, Options());
        var list = new List<ClipBatch>();
        await foreach (var b in loader.ReadEpochAsync(2)) list.Add(b);
        Assert.Equal(sync.SelectMany(b => b.Keys), list.SelectMany(b => b.Keys));
    }
}
