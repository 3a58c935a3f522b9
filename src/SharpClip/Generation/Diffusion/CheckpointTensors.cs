using SharpClip.Checkpoints;
using SharpClip.Files;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion;

/// <summary>
/// The tensors of one single-file checkpoint, by name: a <c>.safetensors</c> file stays memory-mapped and each tensor
/// is read when a model asks for it (so a 4 GB checkpoint is never held twice); a PyTorch <c>.ckpt</c> is read through
/// SharpClip's pickle reader, which never executes code, with its <c>state_dict</c> unwrapped.
/// </summary>
internal sealed class CheckpointTensors : IDisposable
{
    readonly SafeTensorsFile? _file;
    readonly Dictionary<string, Tensor>? _loaded;
    readonly Dictionary<string, Route>? _routes;
    readonly CheckpointTensors[] _sources = [];
    Func<string, string?>? _nameMissing;
    bool _released;

    /// <summary>Where a key of a composite view is stored: a file's tensor under another name, maybe another shape.</summary>
    internal sealed record Route(CheckpointTensors Source, string StoredKey);

    CheckpointTensors(string path, string format, SafeTensorsFile? file, Dictionary<string, Tensor>? loaded,
        Dictionary<string, (long[] Shape, ScalarType DType)> entries)
    {
        Path = path;
        Format = format;
        _file = file;
        _loaded = loaded;
        Entries = entries;
    }

    public string Path { get; }

    /// <summary>"safetensors" or the PyTorch archive's format.</summary>
    public string Format { get; }

    /// <summary>Shape and element type of every tensor, known before any is read.</summary>
    public IReadOnlyDictionary<string, (long[] Shape, ScalarType DType)> Entries { get; }

    public static CheckpointTensors Open(string path, CancellationToken ct)
    {
        if (Directory.Exists(path))
            throw new InvalidDataException($"{path}: a folder; expected a single-file Stable Diffusion checkpoint (.safetensors or .ckpt)");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such checkpoint file", path);
        FileTree.RequireRegularFile(path);
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) || !TorchArchive.LooksLikeTorchFile(path))
        {
            var file = SafeTensorsFile.Open(path);
            var entries = file.Tensors.ToDictionary(t => t.Name, t => (t.Shape, SafeTensorsFile.ToScalarType(t.DType)), StringComparer.Ordinal);
            return new CheckpointTensors(path, "safetensors", file, null, entries);
        }
        using var scope = NewDisposeScope();
        using var archive = TorchArchive.Open(path);
        var loaded = archive.Materialize(PickledStateDict.Find(archive), ct);
        foreach (var t in loaded.Values) t.DetachFromDisposeScope();
        return new CheckpointTensors(path, archive.Format, null, loaded,
            loaded.ToDictionary(kv => kv.Key, kv => (kv.Value.shape, kv.Value.dtype), StringComparer.Ordinal));
    }

    /// <summary>
    /// One view over tensors stored in other files under other names (a diffusers folder seen with the single-file
    /// names): <paramref name="routes"/> maps each key to its file and stored name, and <paramref name="shapes"/> gives
    /// the shape the key has in this view (a stored Linear [C, C] can be a 1×1 conv [C, C, 1, 1] here; the element count
    /// must match). The view owns and disposes <paramref name="sources"/>.
    /// </summary>
    public static CheckpointTensors Composite(string path, string format, IReadOnlyList<CheckpointTensors> sources,
        IReadOnlyDictionary<string, Route> routes, IReadOnlyDictionary<string, long[]>? shapes = null, Func<string, string?>? nameMissing = null)
    {
        var entries = new Dictionary<string, (long[] Shape, ScalarType DType)>(StringComparer.Ordinal);
        foreach (var (key, route) in routes)
        {
            var stored = route.Source.Entries[route.StoredKey];
            var shape = shapes is not null && shapes.TryGetValue(key, out var s) ? s : stored.Shape;
            if (shape.Aggregate(1L, (a, b) => a * b) != stored.Shape.Aggregate(1L, (a, b) => a * b))
                throw new InvalidDataException($"{route.Source.Path}: key '{route.StoredKey}' has shape [{string.Join(",", stored.Shape)}], which cannot be [{string.Join(",", shape)}]");
            entries[key] = (shape, stored.DType);
        }
        return new CheckpointTensors(path, format, null, null, entries, new Dictionary<string, Route>(routes, StringComparer.Ordinal), [.. sources])
        {
            _nameMissing = nameMissing,
        };
    }

    CheckpointTensors(string path, string format, SafeTensorsFile? file, Dictionary<string, Tensor>? loaded,
        Dictionary<string, (long[] Shape, ScalarType DType)> entries, Dictionary<string, Route> routes, CheckpointTensors[] sources)
        : this(path, format, file, loaded, entries)
    {
        _routes = routes;
        _sources = sources;
    }

    /// <summary>A view over other files under other names (<see cref="Composite"/>).</summary>
    public bool IsComposite => _routes is not null;

    /// <summary>How a message names a key: <c>'key'</c> in a single file, <c>'stored key' (in FILE)</c> in a composite view.</summary>
    public string Describe(string key) =>
        _routes is not null && _routes.TryGetValue(key, out var r) ? $"'{r.StoredKey}' (in {r.Source.Path})" : _nameMissing?.Invoke(key) ?? $"'{key}'";

    /// <summary>A new tensor (the caller disposes it) with the stored dtype and this view's shape.</summary>
    public Tensor Read(string key)
    {
        if (!Entries.ContainsKey(key)) throw new InvalidDataException($"{Path}: missing key '{key}'");
        if (_released)
            throw new InvalidOperationException($"{Path}: the weights were released once the models were filled; open the checkpoint again to read '{key}'");
        if (_routes is not null)
        {
            var route = _routes[key];
            var stored = route.Source.Read(route.StoredKey);
            var shape = Entries[key].Shape;
            if (stored.shape.SequenceEqual(shape)) return stored;
            using (stored) return stored.reshape(shape).clone();
        }
        return _file is not null ? _file.ReadTensor(key) : _loaded![key].alias();
    }

    /// <summary>
    /// Frees what holds the weights — a <c>.ckpt</c>'s whole materialised state dict, a safetensors file's mapping —
    /// once the models have their copies, so a loaded pipeline does not keep a second copy of the weights beside its
    /// modules for its lifetime. Names, shapes and dtypes stay known; <see cref="Read"/> refuses afterwards.
    /// </summary>
    public void ReleaseWeights()
    {
        if (_released) return;
        _released = true;
        _file?.Dispose();
        if (_loaded is not null) foreach (var t in _loaded.Values) t.Dispose();
        foreach (var source in _sources) source.ReleaseWeights();
    }

    public void Dispose()
    {
        ReleaseWeights();
        foreach (var source in _sources) source.Dispose();
    }
}
