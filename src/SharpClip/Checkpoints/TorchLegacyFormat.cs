using System.Buffers.Binary;
using System.Numerics;

namespace SharpClip.Checkpoints;

/// <summary>
/// PyTorch's pre-1.6 <c>torch.save</c> layout (still written with <c>_use_new_zipfile_serialization=False</c>): five
/// pickles in a row — magic number, protocol version (1001), system info, the object, the list of storage keys — then
/// each storage in that order as an int64 element count followed by its raw bytes.
/// </summary>
internal static class TorchLegacyFormat
{
    static readonly BigInteger Magic = BigInteger.Parse("119547037146038801333356"); // 0x1950a86a20f9469cfc6c

    public static (object? Root, IReadOnlyDictionary<string, (long Offset, long Length)> Storages) Read(string path,
        PickledModuleClasses? moduleClasses = null)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var host = new RecordingHost(new TorchPickleHost(path, allowTorchScriptClasses: false, moduleClasses));
        var reader = new PickleReader(fs, path, host);

        var magic = reader.Load();
        if (magic is not BigInteger m || m != Magic)
            throw new InvalidDataException($"{path}: a pickle, but not a PyTorch checkpoint (wrong magic number)");
        if (reader.Load() is not long protocol || protocol != 1001)
            throw new InvalidDataException($"{path}: unsupported legacy PyTorch protocol version");
        if (reader.Load() is PickleDict sysInfo && sysInfo.TryGet("little_endian", out var le) && le is false)
            throw new InvalidDataException($"{path}: a big-endian legacy checkpoint is not supported");
        var root = reader.Load();
        if (reader.Load() is not List<object?> keys)
            throw new InvalidDataException($"{path}: the storage key list is missing (truncated file?)");

        var storages = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        Span<byte> count = stackalloc byte[8];
        foreach (var k in keys)
        {
            string key = k as string ?? throw new InvalidDataException($"{path}: storage key is not a string");
            if (!host.DTypes.TryGetValue(key, out var dtype))
                throw new InvalidDataException($"{path}: storage '{key}' is listed but never referenced");
            if (fs.Read(count) != 8) throw new InvalidDataException($"{path}: storage '{key}' is missing (truncated file?)");
            long elements = BinaryPrimitives.ReadInt64LittleEndian(count);
            long bytes = elements < 0 || elements > long.MaxValue / TensorBytes.ElementSize(dtype) ? long.MaxValue : elements * TensorBytes.ElementSize(dtype);
            if (elements < 0 || bytes > fs.Length - fs.Position)
                throw new InvalidDataException($"{path}: storage '{key}' claims {elements} elements, past the end of the file (truncated?)");
            storages[key] = (fs.Position, bytes);
            fs.Seek(bytes, SeekOrigin.Current);
        }
        return (root, storages);
    }

    /// <summary>Remembers each storage's dtype: the raw storages after the pickles carry only an element count.</summary>
    sealed class RecordingHost(TorchPickleHost inner) : IPickleHost
    {
        public Dictionary<string, TorchSharp.torch.ScalarType> DTypes { get; } = new(StringComparer.Ordinal);

        public object ResolveGlobal(string module, string name) => inner.ResolveGlobal(module, name);
        public object? Call(object callable, PickleTuple args) => inner.Call(callable, args);
        public object NewObject(object cls, PickleTuple args) => inner.NewObject(cls, args);
        public void Build(object? target, object? state) => inner.Build(target, state);

        public object? PersistentLoad(object? pid)
        {
            var r = inner.PersistentLoad(pid);
            if (r is TorchStorageRef s) DTypes[s.Key] = s.DType;
            return r;
        }
    }
}
