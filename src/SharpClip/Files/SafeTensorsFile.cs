using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Files;

/// <summary>Element type of a tensor stored in a safetensors file.</summary>
public enum SafeTensorsDType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool }

/// <summary>Name, element type, shape and byte range of one tensor in a safetensors file.</summary>
public sealed record SafeTensorInfo(string Name, SafeTensorsDType DType, long[] Shape, long Begin, long End)
{
    /// <summary>The number of elements; a shape whose product does not fit in 64 bits throws <see cref="OverflowException"/>.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => checked(a * b));
}

/// <summary>
/// A memory-mapped safetensors file. The header is parsed and checked up front (offsets inside the file, sizes that
/// agree with shape and dtype), so a truncated or lying file fails at <see cref="Open"/> with the file and tensor named,
/// never later with a half-loaded model. The file is never copied whole: <see cref="RawBytes"/> reads straight from the
/// mapping, and <see cref="ReadTensor"/> reads each tensor's bytes from the file into the new tensor's own memory.
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    const long MaxHeaderBytes = 100L * 1024 * 1024;

    readonly MemoryMappedFile _map;
    readonly MemoryMappedViewAccessor _view;
    readonly SafeFileHandle _handle;
    readonly long _dataStart;
    readonly Dictionary<string, SafeTensorInfo> _tensors;

    public string Path { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyCollection<string> Names => _tensors.Keys;
    public IEnumerable<SafeTensorInfo> Tensors => _tensors.Values;

    SafeTensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, SafeFileHandle handle, long dataStart,
        Dictionary<string, SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Path = path; _map = map; _view = view; _handle = handle; _dataStart = dataStart; _tensors = tensors; Metadata = metadata;
    }

    /// <summary>Opens and validates <paramref name="path"/>; throws <see cref="InvalidDataException"/> naming the file on any inconsistency.</summary>
    public static SafeTensorsFile Open(string path)
    {
        // The size of what the path names: a Hugging Face cache is made of symlinks, and a link's own size is not the file's.
        var status = FileStatus.Of(path);
        if (status.Kind == FileKind.Missing) throw new FileNotFoundException($"{path}: no such safetensors file", path);
        if (status.Kind != FileKind.Regular) throw new InvalidDataException($"{path}: is {status.Describe()}, not a safetensors file");
        long length = status.Size;
        if (length < 8) throw Bad(path, $"file is {length} bytes, too short for a safetensors header");
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        SafeFileHandle? handle = null;
        try
        {
            view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            long headerLength = view.ReadInt64(0);
            if (headerLength <= 0 || headerLength > MaxHeaderBytes || 8 + headerLength > length)
                throw Bad(path, $"header length {headerLength} does not fit in a file of {length} bytes (truncated or not safetensors)");
            var headerBytes = new byte[headerLength];
            view.ReadArray(8, headerBytes, 0, headerBytes.Length);
            long dataStart = 8 + headerLength;
            var (tensors, metadata) = ParseHeader(path, headerBytes, length - dataStart);
            CheckTiling(path, tensors.Values, length - dataStart);
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            return new SafeTensorsFile(path, map, view, handle, dataStart, tensors, metadata);
        }
        catch
        {
            handle?.Dispose();
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    static (Dictionary<string, SafeTensorInfo>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException e) { throw Bad(path, $"header is not valid JSON ({e.Message})"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad(path, "header is not a JSON object");
            var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind == JsonValueKind.Object)
                        foreach (var m in prop.Value.EnumerateObject())
                            metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                    continue;
                }
                tensors[prop.Name] = ParseEntry(path, prop.Name, prop.Value, dataLength);
            }
            return (tensors, metadata);
        }
    }

    // Like the reference implementation: the tensors tile the data section exactly — no overlap (two names for the
    // same bytes), no gap, nothing after the last one. A header that lies about offsets is caught here.
    static void CheckTiling(string path, IEnumerable<SafeTensorInfo> tensors, long dataLength)
    {
        long end = 0;
        SafeTensorInfo? previous = null;
        foreach (var t in tensors.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (t.Begin != end)
                throw Bad(path, t.Begin < end
                    ? $"tensor '{t.Name}' (bytes {t.Begin}-{t.End}) overlaps tensor '{previous!.Name}' (bytes {previous.Begin}-{previous.End})"
                    : $"tensor '{t.Name}' starts at byte {t.Begin}, leaving a gap after {(previous is null ? "the header" : $"tensor '{previous.Name}'")} (ends at {end})");
            end = t.End;
            previous = t;
        }
        if (end != dataLength)
            throw Bad(path, $"{dataLength - end} bytes after the last tensor{(previous is null ? "" : $" '{previous.Name}'")} (the header does not describe the file)");
    }

    static SafeTensorInfo ParseEntry(string path, string name, JsonElement e, long dataLength)
    {
        try
        {
            var dtype = ParseDType(e.GetProperty("dtype").GetString() ?? "");
            var shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            var offsets = e.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            if (offsets.Length != 2) throw new FormatException("data_offsets must have two entries");
            if (shape.Any(d => d < 0)) throw new FormatException("negative dimension");
            var info = new SafeTensorInfo(name, dtype, shape, offsets[0], offsets[1]);
            // Checked: a shape such as [2^62+1, 6324224] wraps an unchecked product round to the stored size.
            long expected;
            try { expected = checked(info.ElementCount * ElementSize(dtype)); }
            catch (OverflowException) { throw new FormatException($"shape [{string.Join(",", shape)}] of {dtype} has more bytes than a 64-bit size can count"); }
            if (info.Begin < 0 || info.End < info.Begin || info.End > dataLength)
                throw new FormatException($"data_offsets [{info.Begin}, {info.End}] lie outside the {dataLength} data bytes (truncated file?)");
            if (info.End - info.Begin != expected)
                throw new FormatException($"holds {info.End - info.Begin} bytes but shape [{string.Join(",", shape)}] of {dtype} needs {expected}");
            return info;
        }
        catch (Exception ex) when (ex is FormatException or KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            throw Bad(path, $"tensor '{name}': {ex.Message}");
        }
    }

    static SafeTensorsDType ParseDType(string s) => s switch
    {
        "F64" => SafeTensorsDType.F64, "F32" => SafeTensorsDType.F32, "F16" => SafeTensorsDType.F16,
        "BF16" => SafeTensorsDType.BF16, "I64" => SafeTensorsDType.I64, "I32" => SafeTensorsDType.I32,
        "I16" => SafeTensorsDType.I16, "I8" => SafeTensorsDType.I8, "U8" => SafeTensorsDType.U8, "BOOL" => SafeTensorsDType.Bool,
        _ => throw new FormatException($"unsupported dtype '{s}'"),
    };

    internal static string DTypeName(SafeTensorsDType d) => d == SafeTensorsDType.Bool ? "BOOL" : d.ToString();

    public static int ElementSize(SafeTensorsDType d) => d switch
    {
        SafeTensorsDType.F64 or SafeTensorsDType.I64 => 8,
        SafeTensorsDType.F32 or SafeTensorsDType.I32 => 4,
        SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.I16 => 2,
        _ => 1,
    };

    internal static ScalarType ToScalarType(SafeTensorsDType d) => d switch
    {
        SafeTensorsDType.F64 => ScalarType.Float64, SafeTensorsDType.F32 => ScalarType.Float32,
        SafeTensorsDType.F16 => ScalarType.Float16, SafeTensorsDType.BF16 => ScalarType.BFloat16,
        SafeTensorsDType.I64 => ScalarType.Int64, SafeTensorsDType.I32 => ScalarType.Int32,
        SafeTensorsDType.I16 => ScalarType.Int16, SafeTensorsDType.I8 => ScalarType.Int8,
        SafeTensorsDType.U8 => ScalarType.Byte, _ => ScalarType.Bool,
    };

    internal static SafeTensorsDType FromScalarType(ScalarType t) => t switch
    {
        ScalarType.Float64 => SafeTensorsDType.F64, ScalarType.Float32 => SafeTensorsDType.F32,
        ScalarType.Float16 => SafeTensorsDType.F16, ScalarType.BFloat16 => SafeTensorsDType.BF16,
        ScalarType.Int64 => SafeTensorsDType.I64, ScalarType.Int32 => SafeTensorsDType.I32,
        ScalarType.Int16 => SafeTensorsDType.I16, ScalarType.Int8 => SafeTensorsDType.I8,
        ScalarType.Byte => SafeTensorsDType.U8, ScalarType.Bool => SafeTensorsDType.Bool,
        _ => throw new NotSupportedException($"safetensors has no dtype for {t}"),
    };

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public SafeTensorInfo Info(string name) =>
        _tensors.TryGetValue(name, out var i) ? i : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");

    /// <summary>The tensor's raw little-endian bytes, straight from the mapping (valid while this file is open).</summary>
    public ReadOnlySpan<byte> RawBytes(string name) => MappedSpan(name);

    // A Span over read-only mapped pages: only ever read from (TorchSharp's Tensor.bytes setter wants a Span).
    Span<byte> MappedSpan(string name)
    {
        var info = Info(name);
        long n = info.End - info.Begin;
        if (n > int.MaxValue) throw new NotSupportedException($"{Path}: tensor '{name}' is over 2 GiB; read it with ReadTensor");
        return MappedSpan(info.Begin, (int)n);
    }

    unsafe Span<byte> MappedSpan(long offsetInData, int count)
    {
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        try { return new Span<byte>(p + _view.PointerOffset + _dataStart + offsetInData, count); }
        finally { _view.SafeMemoryMappedViewHandle.ReleasePointer(); }
    }

    /// <summary>A new CPU tensor with the stored dtype and shape (scalars have shape []).</summary>
    /// <remarks>
    /// The bytes are read from the file (positioned reads) into the tensor's memory, not copied from the mapping: every
    /// mapped page a copy touches stays in this process's resident set until the file is closed, so loading a model
    /// through the mapping held its weights twice (the file's pages beside the model's), 2 × 4 GB for Stable
    /// Diffusion. A read goes through the page cache, which the kernel reclaims and does not count as ours.
    /// </remarks>
    public Tensor ReadTensor(string name)
    {
        var info = Info(name);
        var t = torch.empty(info.Shape, dtype: ToScalarType(info.DType));
        long n = info.End - info.Begin;
        if (n == 0) return t;
        try
        {
            if (n <= int.MaxValue)
            {
                ReadExactly(name, t.bytes, info.Begin);
                return t;
            }
            // Over 2 GiB: Tensor.bytes spans are int-sized, so read in chunks into views of the flat tensor.
            using var flat = t.view(-1);
            long elementSize = ElementSize(info.DType), perChunk = (1L << 30) / elementSize;
            for (long start = 0; start < flat.shape[0]; start += perChunk)
            {
                long count = Math.Min(perChunk, flat.shape[0] - start);
                using var slice = flat.narrow(0, start, count);
                ReadExactly(name, slice.bytes, info.Begin + start * elementSize);
            }
            return t;
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    void ReadExactly(string name, Span<byte> destination, long offsetInData)
    {
        long position = _dataStart + offsetInData;
        while (destination.Length > 0)
        {
            int read = RandomAccess.Read(_handle, destination, position);
            if (read == 0) throw Bad(Path, $"tensor '{name}': the file ended while reading it (was it truncated after it was opened?)");
            destination = destination[read..];
            position += read;
        }
    }

    /// <summary>The tensor as float32 values, converting F16/BF16/F64 and integer types.</summary>
    public float[] ReadFloats(string name)
    {
        var info = Info(name);
        var bytes = RawBytes(name);
        var result = new float[info.ElementCount];
        switch (info.DType)
        {
            case SafeTensorsDType.F32: MemoryMarshal.Cast<byte, float>(bytes).CopyTo(result); break;
            case SafeTensorsDType.F16:
                var h = MemoryMarshal.Cast<byte, Half>(bytes);
                for (int i = 0; i < result.Length; i++) result[i] = (float)h[i];
                break;
            case SafeTensorsDType.BF16:
                var u = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < result.Length; i++) result[i] = BitConverter.Int32BitsToSingle(u[i] << 16);
                break;
            case SafeTensorsDType.F64:
                var d = MemoryMarshal.Cast<byte, double>(bytes);
                for (int i = 0; i < result.Length; i++) result[i] = (float)d[i];
                break;
            case SafeTensorsDType.I64:
                var l = MemoryMarshal.Cast<byte, long>(bytes);
                for (int i = 0; i < result.Length; i++) result[i] = l[i];
                break;
            case SafeTensorsDType.U8:
                for (int i = 0; i < result.Length; i++) result[i] = bytes[i];
                break;
            default: throw new NotSupportedException($"{Path}: tensor '{name}' is {info.DType}; cannot read as float");
        }
        return result;
    }

    public long[] ReadInt64s(string name)
    {
        var info = Info(name);
        if (info.DType != SafeTensorsDType.I64) throw new InvalidDataException($"{Path}: tensor '{name}' is {info.DType}, expected I64");
        return MemoryMarshal.Cast<byte, long>(RawBytes(name)).ToArray();
    }

    public void Dispose()
    {
        _handle.Dispose();
        _view.Dispose();
        _map.Dispose();
    }

    static InvalidDataException Bad(string path, string why) => new($"{path}: {why}");
}
