namespace SharpClip.Data;

/// <summary>Why a sample was left out. None of these stop a run; they are counted and reported.</summary>
public enum SkipReason
{
    /// <summary>The image file named by a CSV/JSONL row does not exist (or vanished before decoding).</summary>
    MissingImage,
    /// <summary>An image with no caption at all (no sidecar, a tar key without .txt/.json).</summary>
    MissingCaption,
    /// <summary>Every caption of the sample is empty or whitespace.</summary>
    EmptyCaption,
    /// <summary>The image pipeline returned null or threw (corrupt, truncated, unsupported format).</summary>
    BrokenImage,
    /// <summary>A tar key with captions but no image member.</summary>
    IncompleteSample,
}

/// <summary>
/// Thread-safe counters of what a source/loader read, delivered and skipped, with the first few skip details so
/// a report can say which files were bad. One instance is shared by the readers and the loader's workers.
/// </summary>
public sealed class DataStats
{
    /// <summary>How many skip details are kept (the counts are always complete).</summary>
    public const int MaxExamples = 20;

    private readonly long[] _skipped = new long[Enum.GetValues<SkipReason>().Length];
    private readonly List<string> _examples = [];
    private long _read, _delivered, _dropped;

    /// <summary>Samples handed to the image pipeline (after reader-level skips).</summary>
    public long Read => Interlocked.Read(ref _read);

    /// <summary>Samples that ended up in a batch.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Good samples left over at the end of an epoch when the last partial batch is dropped.</summary>
    public long DroppedRemainder => Interlocked.Read(ref _dropped);

    public long Skipped(SkipReason reason) => Interlocked.Read(ref _skipped[(int)reason]);

    public long TotalSkipped => Enum.GetValues<SkipReason>().Sum(Skipped);

    /// <summary>The first <see cref="MaxExamples"/> skip details, e.g. "missing image: /data/a.jpg (train.csv line 5)".</summary>
    public IReadOnlyList<string> Examples { get { lock (_examples) return [.. _examples]; } }

    public void Skip(SkipReason reason, string detail)
    {
        Interlocked.Increment(ref _skipped[(int)reason]);
        lock (_examples)
            if (_examples.Count < MaxExamples) _examples.Add($"{Describe(reason)}: {detail}");
    }

    internal void CountRead() => Interlocked.Increment(ref _read);
    internal void CountDelivered(int n) => Interlocked.Add(ref _delivered, n);
    internal void CountDropped(int n) => Interlocked.Add(ref _dropped, n);

    /// <summary>One line for logs: "delivered 998 of 1000 read; skipped 3 (missing image 2, empty caption 1)".</summary>
    public override string ToString()
    {
        var parts = Enum.GetValues<SkipReason>().Where(r => Skipped(r) > 0).Select(r => $"{Describe(r)} {Skipped(r)}").ToList();
        var skipped = parts.Count == 0 ? "skipped 0" : $"skipped {TotalSkipped} ({string.Join(", ", parts)})";
        return $"delivered {Delivered} of {Read} read; {skipped}" + (DroppedRemainder > 0 ? $"; {DroppedRemainder} dropped at epoch ends" : "");
    }

    private static string Describe(SkipReason r) => r switch
    {
        SkipReason.MissingImage => "missing image",
        SkipReason.MissingCaption => "missing caption",
        SkipReason.EmptyCaption => "empty caption",
        SkipReason.BrokenImage => "broken image",
        SkipReason.IncompleteSample => "incomplete sample",
        _ => r.ToString(),
    };
}
