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

    /// <summary>A new tensor (the caller disposes it) with the stored dtype and shape.</summary>
    public Tensor Read(string key)
    {
        if (!Entries.ContainsKey(key)) throw new InvalidDataException($"{Path}: missing key '{key}'");
        return _file is not null ? _file.ReadTensor(key) : _loaded![key].alias();
    }

    public void Dispose()
    {
        _file?.Dispose();
        if (_loaded is not null) foreach (var t in _loaded.Values) t.Dispose();
    }
}
