using System.Collections.Concurrent;
using SharpClip.Managed;

namespace SharpClip.Tests.Managed;

/// <summary>The managed engine's threads: every item of a job runs once, in ranges that start on whole grains,
/// whichever thread claims them; a failure reaches the caller; a job started inside a job runs inline.</summary>
public class WorkerTeamTests
{
    [Fact]
    public void EveryItemRunsOnceInRangesOnWholeGrains()
    {
        foreach (int threads in new[] { 1, 2, 3, 4 })
            foreach (int grain in new[] { 1, 5, 12, 144 })
                foreach (int count in new[] { 0, 1, 7, 12, 143, 144, 145, 1000, 3137 })
                {
                    var runs = new int[count];
                    var ranges = new ConcurrentBag<(int From, int To)>();
                    WorkerTeam.Share(count, threads, grain, (from, to) =>
                    {
                        ranges.Add((from, to));
                        for (int i = from; i < to; i++) Interlocked.Increment(ref runs[i]);
                    });
                    string what = $"{count} items, grain {grain}, {threads} threads";
                    Assert.All(runs, n => Assert.True(n == 1, $"{what}: an item ran {n} times"));
                    foreach (var (from, to) in ranges)
                    {
                        Assert.True(from < to, $"{what}: an empty range [{from}, {to})");
                        Assert.True(from % grain == 0, $"{what}: a range starts at {from}");
                        Assert.True(to % grain == 0 || to == count, $"{what}: a range ends at {to}");
                    }
                }
    }

    [Fact]
    public void BothThreadsWorkWhenThereIsEnoughToShare()
    {
        // Not a timing test: with items that each take a while, the worker wakes and claims some within 200 tries.
        for (int attempt = 0; attempt < 200; attempt++)
        {
            var threadIds = new ConcurrentDictionary<int, bool>();
            WorkerTeam.Share(64, 2, 1, (from, to) =>
            {
                threadIds[Environment.CurrentManagedThreadId] = true;
                Thread.Sleep(1);
            });
            if (threadIds.Count == 2) return;
        }
        Assert.Fail("the worker never took a range of a 64-item job");
    }

    [Fact]
    public void AFailureReachesTheCallerAndTheTeamWorksAfter()
    {
        var error = Assert.Throws<InvalidOperationException>(() => WorkerTeam.Share(100, 2, 1, (from, to) =>
        {
            if (from <= 37 && 37 < to) throw new InvalidOperationException("item 37");
            Thread.Sleep(1);
        }));
        Assert.Equal("item 37", error.Message);
        int total = 0;
        WorkerTeam.Share(1000, 2, 7, (from, to) => Interlocked.Add(ref total, to - from));
        Assert.Equal(1000, total);
    }

    [Fact]
    public void AJobStartedInsideAJobRunsOnItsCallersThread()
    {
        var inner = new int[8 * 50];
        WorkerTeam.Share(8, 2, 1, (from, to) =>
        {
            for (int outer = from; outer < to; outer++)
            {
                int thread = Environment.CurrentManagedThreadId;
                int o = outer;
                WorkerTeam.Share(50, 2, 1, (a, b) =>
                {
                    Assert.Equal(thread, Environment.CurrentManagedThreadId);
                    for (int i = a; i < b; i++) Interlocked.Increment(ref inner[o * 50 + i]);
                });
            }
        });
        Assert.All(inner, n => Assert.Equal(1, n));
    }

    [Fact]
    public void ChunksAreEvenAcrossTheThreads()
    {
        Assert.Equal(49, WorkerTeam.EvenChunk(196, 60, 2, 1));                  // 4 of 49, not 60, 60, 60, 16
        Assert.Equal(3144, WorkerTeam.EvenChunk(12544, 4092, 2, 12));         // RN50's first convolution at batch 1
        Assert.Equal(8, WorkerTeam.EvenChunk(16, 12, 2, 1));
        Assert.Equal(25, WorkerTeam.EvenChunk(100, 48, 2, 12));               // 36 would make 3 chunks: not rounded
        foreach (int items in new[] { 1, 5, 49, 196, 785, 3136 })
            foreach (int most in new[] { 1, 12, 60, 4092 })
                foreach (int threads in new[] { 1, 2, 3 })
                {
                    int chunk = WorkerTeam.EvenChunk(items, most, threads, 12);
                    Assert.InRange(chunk, 1, Math.Max(most, 1));
                }
    }
}
