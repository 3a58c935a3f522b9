using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace SharpClip.Search;

/// <summary>Embedding &lt;-&gt; BLOB: little-endian float32 or IEEE float16, no header (the index's metadata says which).</summary>
public static class EmbeddingCodec
{
    public static int BytesPerValue(EmbeddingPrecision p) => p == EmbeddingPrecision.Float16 ? 2 : 4;

    public static byte[] Encode(ReadOnlySpan<float> v, EmbeddingPrecision p)
    {
        var bytes = new byte[v.Length * BytesPerValue(p)];
        if (p == EmbeddingPrecision.Float32)
        {
            if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(v).CopyTo(bytes);
            else for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), v[i]);
        }
        else
        {
            for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), (Half)v[i]);
        }
        return bytes;
    }

    /// <summary>Decodes into <paramref name="destination"/>; a BLOB of the wrong length means a corrupt or foreign index.</summary>
    public static void Decode(ReadOnlySpan<byte> blob, EmbeddingPrecision p, Span<float> destination)
    {
        int expected = destination.Length * BytesPerValue(p);
        if (blob.Length != expected)
            throw new InvalidDataException($"embedding BLOB has {blob.Length} bytes, expected {expected} ({destination.Length} x {p})");
        if (p == EmbeddingPrecision.Float32)
        {
            if (BitConverter.IsLittleEndian) MemoryMarshal.Cast<byte, float>(blob).CopyTo(destination);
            else for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadSingleLittleEndian(blob[(i * 4)..]);
        }
        else
        {
            for (int i = 0; i < destination.Length; i++) destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(blob[(i * 2)..]);
        }
    }

    public static float[] Decode(ReadOnlySpan<byte> blob, EmbeddingPrecision p, int dimension)
    {
        var v = new float[dimension];
        Decode(blob, p, v);
        return v;
    }
}
