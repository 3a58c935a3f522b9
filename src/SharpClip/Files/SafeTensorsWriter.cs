using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Files;

/// <summary>
/// Writes safetensors files. Tensors are written in name order without gaps, the header padded to 8 bytes, as the
/// reference writer does; the file appears atomically (temp file + rename) so a crash never leaves half a checkpoint.
/// </summary>
public static class SafeTensorsWriter
{
    /// <summary>One tensor to write: raw little-endian bytes with dtype and shape (no torch needed).</summary>
    public sealed record Entry(SafeTensorsDType DType, long[] Shape, ReadOnlyMemory<byte> Data);

    public static Entry FromFloats(float[] values, params long[] shape) =>
        new(SafeTensorsDType.F32, shape, MemoryMarshalBytes(values));

    public static Entry FromBytes(byte[] values, params long[] shape) => new(SafeTensorsDType.U8, shape, values);

    public static Entry FromTensor(Tensor t)
    {
        using var c = t.detach().cpu().contiguous();
        return new(SafeTensorsFile.FromScalarType(c.dtype), c.shape, c.bytes.ToArray());
    }

    /// <summary>Writes tensors (any device, any layout) without staging them in managed memory: each one's bytes go
    /// from native memory straight to the file.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        WriteCore(path, tensors.ToDictionary(kv => kv.Key, kv =>
        {
            var t = kv.Value;
            long bytes = t.numel() * t.element_size();
            return (SafeTensorsFile.FromScalarType(t.dtype), t.shape, bytes, (Action<Stream>)(s => WriteTensorBytes(s, t)));
        }), metadata);

    public static void Write(string path, IReadOnlyDictionary<string, Entry> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        foreach (var (name, e) in tensors)
        {
            long expected = checked(e.Shape.Aggregate(1L, (a, b) => checked(a * b)) * SafeTensorsFile.ElementSize(e.DType));
            if (expected != e.Data.Length)
                throw new ArgumentException($"tensor '{name}': {e.Data.Length} bytes for shape [{string.Join(",", e.Shape)}] of {e.DType}");
        }
        WriteCore(path, tensors.ToDictionary(kv => kv.Key, kv =>
            (kv.Value.DType, kv.Value.Shape, (long)kv.Value.Data.Length, (Action<Stream>)(s => s.Write(kv.Value.Data.Span)))), metadata);
    }

    static void WriteTensorBytes(Stream s, Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        var c = t.detach().cpu().contiguous();
        if (c.numel() == 0) return;
        using var flat = c.view(-1);
        long perChunk = (1L << 30) / c.element_size(); // Tensor.bytes spans are int-sized
        for (long start = 0; start < flat.shape[0]; start += perChunk)
        {
            using var slice = flat.narrow(0, start, Math.Min(perChunk, flat.shape[0] - start));
            s.Write(slice.bytes);
        }
    }

    static void WriteCore(string path, Dictionary<string, (SafeTensorsDType DType, long[] Shape, long Length, Action<Stream> WriteData)> tensors,
        IReadOnlyDictionary<string, string>? metadata)
    {
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var name in names)
        {
            var e = tensors[name];
            header[name] = new Dictionary<string, object>
            {
                ["dtype"] = SafeTensorsFile.DTypeName(e.DType),
                ["shape"] = e.Shape,
                ["data_offsets"] = new[] { offset, offset + e.Length },
            };
            offset += e.Length;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8;
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var tmp = System.IO.Path.Combine(dir, "." + System.IO.Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Span<byte> len = stackalloc byte[8];
                BitConverter.TryWriteBytes(len, (long)padded);
                fs.Write(len);
                fs.Write(json);
                for (int i = json.Length; i < padded; i++) fs.WriteByte((byte)' ');
                foreach (var name in names)
                {
                    long before = fs.Position;
                    tensors[name].WriteData(fs);
                    if (fs.Position - before != tensors[name].Length)
                        throw new InvalidOperationException($"tensor '{name}': wrote {fs.Position - before} bytes, expected {tensors[name].Length}");
                }
                fs.Flush(true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
    }

    static byte[] MemoryMarshalBytes(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return bytes;
    }
}
