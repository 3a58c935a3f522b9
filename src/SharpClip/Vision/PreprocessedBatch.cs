using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Vision;

/// <summary>
/// One batch of model inputs preprocessed straight into a single tensor (<c>float32 [count, 3, H, W]</c>), with each
/// failed item's error at its place. Why not an array per image (<see cref="PreprocessResult"/>): on the <c>embed</c>
/// bench a fresh 600 KB array per photo, then copied into the batch tensor, was a twentieth of the decoding threads'
/// time in page faults alone (<c>perf</c>); here each image is normalised once, into its slot of the tensor the model
/// reads.
/// </summary>
internal sealed class PreprocessedBatch : IDisposable
{
    readonly Tensor _pixels;        // [count, 3, H, W]
    readonly Exception?[] _errors;
    readonly IntPtr[] _slots;       // each item's [3, H, W] in the tensor's memory
    readonly int _each;
    readonly BatchTensorRecycler? _recycler;
    bool _disposed;

    /// <summary>A batch for <paramref name="sources"/>; its tensor comes from (and goes back to) <paramref name="recycler"/>
    /// when one is given.</summary>
    public PreprocessedBatch(IReadOnlyList<string> sources, int height, int width, BatchTensorRecycler? recycler = null)
    {
        Sources = sources;
        _errors = new Exception?[sources.Count];
        _each = 3 * height * width;
        _recycler = recycler;
        long[] shape = [sources.Count, 3, height, width];
        _pixels = recycler?.Take(shape) ?? torch.empty(shape, ScalarType.Float32);
        _slots = new IntPtr[sources.Count];
        for (int i = 0; i < _slots.Length; i++)
        {
            using var item = _pixels[i]; // a view: its bytes are the batch's (one span per item: a span stops at 2 GiB)
            _slots[i] = Address(item.bytes);
        }
    }

    static unsafe IntPtr Address(Span<byte> bytes) => (IntPtr)Unsafe.AsPointer(ref MemoryMarshal.GetReference(bytes));

    /// <summary>What each item came from (a path, an upload's name), in order.</summary>
    public IReadOnlyList<string> Sources { get; }

    public int Count => _errors.Length;

    /// <summary>Why item <paramref name="index"/> failed, or null when it holds an image.</summary>
    public Exception? Error(int index) => _errors[index];

    /// <summary>The positions of the items that hold an image, in order.</summary>
    public IReadOnlyList<int> Succeeded() => Enumerable.Range(0, Count).Where(i => _errors[i] is null).ToList();

    /// <summary>Item <paramref name="index"/>'s slot, <c>[3, H, W]</c>, for one thread to fill.</summary>
    public unsafe Span<float> Slot(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
        return new Span<float>((void*)_slots[index], _each);
    }

    /// <summary>Marks item <paramref name="index"/> as failed (its slot is then ignored).</summary>
    public void Fail(int index, Exception error) => _errors[index] = error;

    /// <summary>The images of the items that hold one, <c>[succeeded, 3, H, W]</c>: the batch itself when none failed.
    /// Dispose it; the batch keeps its own handle.</summary>
    public Tensor Pixels()
    {
        var ok = Succeeded();
        if (ok.Count == Count) return _pixels.alias();
        using var index = torch.tensor(ok.Select(i => (long)i).ToArray());
        return _pixels.index_select(0, index);
    }

    /// <summary>Gives the tensor to the recycler, or disposes it. Tensors <see cref="Pixels"/> returned must be disposed
    /// first (they share its memory).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_recycler is not null) _recycler.GiveBack(_pixels);
        else _pixels.Dispose();
    }
}
