using System.IO.Compression;
using System.Text;
using static TorchSharp.torch;

namespace SharpClip.Checkpoints;

/// <summary>
/// A PyTorch checkpoint file read without executing it: <c>torch.save</c>'s zip archive (<c>&lt;root&gt;/data.pkl</c> +
/// <c>&lt;root&gt;/data/&lt;key&gt;</c> storages), a TorchScript archive (<c>torch.jit.save</c>: the same plus
/// <c>code/</c> and <c>constants.pkl</c>), or the legacy pre-1.6 stream of pickles (<see cref="TorchLegacyFormat"/>).
/// Opening parses only the pickle into inert references; tensor bytes are read by <see cref="Materialize"/> for the
/// tensors the caller selects (so an open_clip training checkpoint's optimizer state is never loaded).
/// </summary>
internal sealed class TorchArchive : IDisposable
{
    static readonly byte[] ZipMagic = "PK\u0003\u0004"u8.ToArray();

    readonly ZipArchive? _zip;
    readonly string _root = "";
    readonly IReadOnlyDictionary<string, (long Offset, long Length)>? _legacyStorages;
    readonly Dictionary<string, TorchScriptClass> _scriptClasses;

    public string Path { get; }
    /// <summary>The unpickled <c>data.pkl</c>: dicts, lists, numbers, <see cref="TorchTensorRef"/>s, <see cref="TorchScriptObject"/>s.</summary>
    public object? Root { get; }
    public bool IsTorchScript { get; }
    /// <summary>"pytorch-zip", "torchscript" or "pytorch-legacy".</summary>
    public string Format { get; }

    TorchArchive(string path, ZipArchive? zip, string root, object? data, bool torchScript, string format,
        Dictionary<string, TorchScriptClass> classes, IReadOnlyDictionary<string, (long, long)>? legacy)
    {
        Path = path; _zip = zip; _root = root; Root = data; IsTorchScript = torchScript; Format = format;
        _scriptClasses = classes; _legacyStorages = legacy;
    }

    /// <summary>True when the file starts like a zip archive or a pickle (so it may be a PyTorch checkpoint).</summary>
    public static bool LooksLikeTorchFile(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using var fs = File.OpenRead(path);
        int n = fs.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        return (n == 4 && head.SequenceEqual(ZipMagic)) || (n >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5);
    }

    /// <param name="path">A PyTorch zip checkpoint, TorchScript archive or legacy (pre-1.6) checkpoint.</param>
    /// <param name="moduleClasses">Pickled <c>nn.Module</c> classes to read as <see cref="PickledModule"/> data
    /// (<c>torch.save(model)</c> files such as openai/DALL-E's dVAE); null refuses every module class.</param>
    public static TorchArchive Open(string path, PickledModuleClasses? moduleClasses = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such checkpoint file", path);
        var head = new byte[512];
        int n;
        using (var fs = File.OpenRead(path)) n = fs.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (n >= 4 && head.AsSpan(0, 4).SequenceEqual(ZipMagic)) return OpenZip(path, moduleClasses);
        if (n >= 2 && head[0] == 0x80) return OpenLegacy(path, moduleClasses);
        if (n >= 262 && Encoding.ASCII.GetString(head, 257, 5) == "ustar")
            throw new InvalidDataException($"{path}: a tar-format PyTorch checkpoint (PyTorch < 0.4) is an unsupported legacy format; " +
                                           "re-save it with a current PyTorch (torch.save) or convert it to safetensors");
        throw new InvalidDataException($"{path}: not a PyTorch checkpoint (neither a zip archive nor a pickle)");
    }

    static TorchArchive OpenZip(string path, PickledModuleClasses? moduleClasses)
    {
        ZipArchive zip;
        try { zip = ZipFile.OpenRead(path); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: not a readable zip archive (truncated or corrupted?): {e.Message}", e); }
        try
        {
            var entries = zip.Entries.Where(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal))
                .Select(e => e.FullName).ToList();
            // The root folder's name is arbitrary ("archive", the file's stem, ...): data.pkl one level down.
            var dataPkl = entries.FirstOrDefault(e => e.Count(c => c == '/') == 1 && e.EndsWith("/data.pkl", StringComparison.Ordinal))
                          ?? (entries.Contains("data.pkl") ? "data.pkl" : null)
                          ?? throw new InvalidDataException($"{path}: zip archive has no data.pkl; it is not a PyTorch checkpoint");
            string root = dataPkl[..^"data.pkl".Length];
            if (zip.GetEntry(root + "byteorder") is { } bo)
            {
                var order = ReadText(bo).Trim();
                if (order != "little") throw new InvalidDataException($"{path}: storages are stored {order}-endian; only little-endian is supported");
            }
            bool torchScript = zip.GetEntry(root + "constants.pkl") is not null || zip.Entries.Any(e => e.FullName.StartsWith(root + "code/", StringComparison.Ordinal));
            var classes = torchScript ? TorchScriptClass.ParseArchiveCode(zip, root) : [];
            var host = new TorchPickleHost(path, allowTorchScriptClasses: torchScript, moduleClasses);
            object? data = PickleReader.Load(ReadAll(zip.GetEntry(dataPkl)!, path), $"{path} ({dataPkl})", host);
            return new TorchArchive(path, zip, root, data, torchScript, torchScript ? "torchscript" : "pytorch-zip", classes, null);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    static TorchArchive OpenLegacy(string path, PickledModuleClasses? moduleClasses)
    {
        var (data, storages) = TorchLegacyFormat.Read(path, moduleClasses);
        return new TorchArchive(path, null, "", data, false, "pytorch-legacy", [], storages);
    }

    /// <summary>Parameter and buffer names declared by a TorchScript class (from the archive's code/), or null if unknown.</summary>
    public TorchScriptClass? ScriptClass(string typeName) => _scriptClasses.GetValueOrDefault(typeName);

    /// <summary>
    /// Reads the selected tensors as new contiguous CPU tensors owned by the caller. Views are honoured (offset, size,
    /// stride, bounds-checked against the storage); a storage used by several tensors is read once and copied per
    /// tensor; a tensor that is its storage's only, whole, contiguous user takes the storage without a copy.
    /// On any error every tensor created so far is disposed and an <see cref="InvalidDataException"/> names the file
    /// and the tensor.
    /// </summary>
    public Dictionary<string, Tensor> Materialize(IReadOnlyList<KeyValuePair<string, TorchTensorRef>> wanted, CancellationToken ct = default)
    {
        var totalUses = wanted.GroupBy(w => w.Value.Storage.Key).ToDictionary(g => g.Key, g => g.Count());
        var remainingUses = new Dictionary<string, int>(totalUses);
        var storages = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, r) in wanted)
            {
                ct.ThrowIfCancellationRequested();
                string key = r.Storage.Key;
                if (!storages.TryGetValue(key, out var storage))
                    storages[key] = storage = ReadStorage(r.Storage, name);
                else if (storage.dtype != r.Storage.DType)
                    throw new InvalidDataException($"{Path}: tensor '{name}' reads storage '{key}' as {r.Storage.DType} but another tensor reads it as {storage.dtype}");

                bool lastUse = --remainingUses[key] == 0;
                bool whole = totalUses[key] == 1 && r.Offset == 0 && CountOrMinusOne(r.Shape) == storage.shape[0] && IsContiguous(r.Shape, r.Stride);
                result[name] = View(storage, r, name, takeWhole: whole);
                if (lastUse)
                {
                    storage.Dispose();
                    storages.Remove(key);
                }
            }
            return result;
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        finally
        {
            foreach (var s in storages.Values) s.Dispose();
        }
    }

    static long CountOrMinusOne(long[] shape)
    {
        try { return shape.Aggregate(1L, (a, b) => checked(a * b)); }
        catch (OverflowException) { return -1; } // View names the tensor
    }

    Tensor View(Tensor storage, TorchTensorRef r, string name, bool takeWhole)
    {
        long n;
        try { n = r.Shape.Aggregate(1L, (a, b) => checked(a * b)); }
        catch (OverflowException) { throw new InvalidDataException($"{Path}: tensor '{name}' has an impossible size [{string.Join(",", r.Shape)}]"); }
        if (n == 0) return empty(r.Shape, dtype: r.Storage.DType);
        // Only stride-0 (expanded) views hold more elements than their storage; even those stay within reason.
        if (n > Math.Max(storage.shape[0], 1) * 1024L)
            throw new InvalidDataException($"{Path}: tensor '{name}' has {n} elements from a storage of {storage.shape[0]}");
        long last;
        try
        {
            last = checked(r.Offset + r.Shape.Zip(r.Stride).Sum(p => checked((p.First - 1) * p.Second)));
        }
        catch (OverflowException) { throw new InvalidDataException($"{Path}: tensor '{name}' has a size/stride that overflows"); }
        long available = storage.shape[0];
        if (last >= available)
            throw new InvalidDataException($"{Path}: tensor '{name}' ([{string.Join(",", r.Shape)}], offset {r.Offset}, stride " +
                                           $"[{string.Join(",", r.Stride)}]) reaches element {last} of storage '{r.Storage.Key}', which holds {available}");
        if (takeWhole) return storage.view(r.Shape);
        using var view = storage.as_strided(r.Shape, r.Stride, r.Offset);
        var copy = empty(r.Shape, dtype: r.Storage.DType);
        copy.copy_(view);
        return copy;
    }

    static bool IsContiguous(long[] shape, long[] stride)
    {
        long expected = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            if (shape[i] != 1 && stride[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    Tensor ReadStorage(TorchStorageRef s, string tensorName)
    {
        string where() => $"{Path}: storage '{s.Key}' of tensor '{tensorName}'";
        if (_zip is not null)
        {
            var entry = _zip.GetEntry($"{_root}data/{s.Key}")
                        ?? throw new InvalidDataException($"{where()}: missing from the archive ({_root}data/{s.Key})");
            // PyTorch stores storages uncompressed; a compressed one inflating past the whole file is a zip bomb, not weights.
            if (entry.CompressedLength != entry.Length && entry.Length > Files.FileStatus.Of(Path).Size)
                throw new InvalidDataException($"{where()}: a compressed storage claims {entry.Length} bytes, more than the whole file");
            try
            {
                using var stream = entry.Open();
                return TensorBytes.ReadStorage(stream, entry.Length, s.DType, where);
            }
            catch (InvalidDataException e) when (!e.Message.StartsWith(Path, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{where()}: {e.Message}", e);
            }
        }
        var (offset, length) = _legacyStorages!.TryGetValue(s.Key, out var loc) ? loc
            : throw new InvalidDataException($"{where()}: not among the file's storages");
        using var fs = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        fs.Position = offset;
        return TensorBytes.ReadStorage(fs, length, s.DType, where);
    }

    static byte[] ReadAll(ZipArchiveEntry e, string path)
    {
        if (e.Length > 1L << 30) throw new InvalidDataException($"{path}: {e.FullName} is implausibly large ({e.Length} bytes)");
        using var s = e.Open();
        var buf = new byte[e.Length];
        try { s.ReadExactly(buf); }
        catch (Exception ex) when (ex is EndOfStreamException or InvalidDataException)
        {
            throw new InvalidDataException($"{path}: cannot read {e.FullName} (truncated or corrupted archive): {ex.Message}", ex);
        }
        return buf;
    }

    internal static string ReadText(ZipArchiveEntry e)
    {
        using var r = new StreamReader(e.Open(), Encoding.UTF8);
        return r.ReadToEnd();
    }

    public void Dispose() => _zip?.Dispose();
}
