using SharpClip.Managed;

namespace SharpClip.Tests.Managed;

/// <summary>The managed engine's working memory: scratch buffers come back from the pool instead of new pages. Alone
/// (the pool is process-wide: another test's call could take the returned buffer in between).</summary>
[Collection(nameof(AlignedBufferPool))]
public unsafe class AlignedBufferTests
{
    [Fact]
    public void AReturnedScratchBufferIsReusedAlignedAndPooledOnce()
    {
        float* first;
        using (var a = AlignedBuffer.Scratch(300_001))                              // an odd length: capacity 2^19
        {
            first = a.Data;
            Assert.Equal(0, (long)a.Data % 64);
            Assert.Equal(300_001, a.Length);
            a.Data[300_000] = 1;                                                    // the whole length is writable
        }
        using (var b = AlignedBuffer.Scratch(400_000))                              // same capacity: the same memory again
            Assert.True(b.Data == first);
        var c = AlignedBuffer.Scratch(10);
        c.Dispose();
        c.Dispose();                                                                // twice is harmless, and not pooled twice
        using var d = AlignedBuffer.Scratch(10);
        using var e = AlignedBuffer.Scratch(10);
        Assert.True(d.Data != e.Data);
        Assert.Throws<ObjectDisposedException>(() => (nint)c.Data);
        Assert.Throws<ArgumentOutOfRangeException>(() => AlignedBuffer.Scratch(-1));
    }
}

[CollectionDefinition(nameof(AlignedBufferPool), DisableParallelization = true)]
public sealed class AlignedBufferPool;
