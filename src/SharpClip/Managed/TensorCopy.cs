using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Managed;

/// <summary>Copies of live tensors as managed or native float32 (the engine snapshots the weights once).</summary>
internal static unsafe class TensorCopy
{
    /// <summary>The tensor's values, row-major, as float32: one copy of its memory (TorchSharp's accessor
    /// <c>data&lt;float&gt;().ToArray()</c> went element by element and made most of a tower's first-call cost).</summary>
    public static float[] Floats(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        var values = t.detach().to(ScalarType.Float32, CPU).contiguous();
        return MemoryMarshal.Cast<byte, float>(values.bytes).ToArray();
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
