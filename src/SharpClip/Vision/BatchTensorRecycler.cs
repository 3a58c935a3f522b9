using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Vision;

/// <summary>
/// One spare batch tensor, handed from a batch the model has finished to the next batch decoded. Why: a fresh
/// <c>[32, 3, 224, 224]</c> tensor (19 MB) per batch came from newly mapped memory each time, and its page faults were
/// taken by the decoding threads while they normalised into it (0.36 ms of CPU per photo in <c>perf</c>). Safe across
/// threads: each tensor belongs to one holder at a time.
/// </summary>
internal sealed class BatchTensorRecycler : IDisposable
{
    Tensor? _spare;

    /// <summary>The spare tensor when it has this shape, else a new one (a spare of another shape is disposed).</summary>
    public Tensor Take(long[] shape)
    {
        var spare = Interlocked.Exchange(ref _spare, null);
        if (spare is not null && spare.shape.AsSpan().SequenceEqual(shape)) return spare;
        spare?.Dispose();
        return torch.empty(shape, ScalarType.Float32);
    }

    /// <summary>Keeps <paramref name="tensor"/> for the next batch (disposing the spare it replaces).</summary>
    public void GiveBack(Tensor tensor) => Interlocked.Exchange(ref _spare, tensor)?.Dispose();

    public void Dispose() => Interlocked.Exchange(ref _spare, null)?.Dispose();
}
