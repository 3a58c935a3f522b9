using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Managed;

/// <summary>Copies of live tensors as managed or native float32 (the engine snapshots the weights once).</summary>
internal static unsafe class TensorCopy
{
    /// <summary>The tensor's values, row-major, as float32.</summary>
    public static float[] Floats(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        return t.detach().to(ScalarType.Float32, CPU).contiguous().data<float>().ToArray();
    }

    /// <summary>The first element of a contiguous CPU tensor's memory (valid while the tensor lives).</summary>
    public static void* Address(Tensor t) => Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));

    public static AlignedBuffer ToNative(ReadOnlySpan<float> values)
    {
        var buffer = new AlignedBuffer(values.Length);
        values.CopyTo(new Span<float>(buffer.Data, values.Length));
        return buffer;
    }
}
