using static TorchSharp.torch;

namespace SharpClip.Checkpoints;

/// <summary>Fills tensors straight from a stream into native memory (no managed copy of the weights).</summary>
internal static class TensorBytes
{
    const long Chunk = 1L << 28; // 256 MiB: Tensor.bytes spans are limited to int.MaxValue bytes

    /// <summary>A new 1-D tensor of <paramref name="byteCount"/> bytes read as <paramref name="dtype"/> from <paramref name="source"/>.</summary>
    public static Tensor ReadStorage(Stream source, long byteCount, ScalarType dtype, Func<string> where)
    {
        long elementSize = ElementSize(dtype);
        if (byteCount % elementSize != 0)
            throw new InvalidDataException($"{where()}: {byteCount} bytes is not a whole number of {dtype} elements");
        var t = empty(byteCount / elementSize, dtype: dtype);
        try
        {
            long elementsPerChunk = Chunk / elementSize;
            for (long start = 0; start < t.shape[0]; start += elementsPerChunk)
            {
                long n = Math.Min(elementsPerChunk, t.shape[0] - start);
                using var slice = t.narrow(0, start, n);
                try { source.ReadExactly(slice.bytes); }
                catch (EndOfStreamException) { throw new InvalidDataException($"{where()}: data ends early (truncated file?)"); }
            }
            return t;
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    public static long ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        _ => throw new NotSupportedException($"dtype {dtype}"),
    };
}
