using SharpClip.Files;
using System.Buffers.Binary;
using System.Text.Json;
using SharpClip.Modeling;
using SharpClip.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Checkpoints;

/// <summary>Options for <see cref="CheckpointLoader.Read"/>.</summary>
public sealed record CheckpointReadOptions
{
    /// <summary>Check the state dict against the architecture (declared, or inferred like the reference) and fail on a
    /// missing/unexpected key, a wrong shape or dtype. On by default; turn off only to inspect odd files.</summary>
    public bool Validate { get; init; } = true;

    /// <summary>A vocabulary to use (the CLI's <c>--vocab</c>); overrides one the checkpoint carries.</summary>
    public string? VocabPath { get; init; }

    /// <summary>Hugging Face <c>merges.txt</c> that goes with a <c>vocab.json</c> given in <see cref="VocabPath"/>.</summary>
    public string? MergesPath { get; init; }
}

/// <summary>
/// Reads any common CLIP checkpoint into OpenAI-named tensors, deciding the format from the path:
/// <list type="bullet">
/// <item>a folder: SharpClip's own (<see cref="ClipModelFolder"/>), a Hugging Face transformers CLIP folder
/// (config.json with <c>model_type: clip</c>, model.safetensors / pytorch_model.bin, sharded or not), or an open_clip hub
/// folder (open_clip_config.json + open_clip_model.safetensors / open_clip_pytorch_model.bin);</item>
/// <item>a file, by content: safetensors, a PyTorch zip (torch.save, incl. open_clip training checkpoints that wrap the
/// dict and DDP's <c>module.</c> prefixes), a TorchScript archive (OpenAI's released <c>.pt</c> files) or a legacy
/// pre-1.6 torch.save stream. Pickles are interpreted by an allow-list that never executes code.</item>
/// </list>
/// The result is complete and checked, or an exception naming the file and key: never a partial state dict.
/// </summary>
public static class CheckpointLoader
{
    public static LoadedCheckpoint Read(string path, CheckpointReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new CheckpointReadOptions();
        if (Directory.Exists(path)) return ReadDirectory(path, options, cancellationToken);
        if (File.Exists(path))
        {
            Files.FileTree.RequireRegularFile(path); // a FIFO or device is refused here, not read forever
            return Path.GetFileName(path) is "config.json" or "open_clip_config.json"
                ? ReadDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!, options, cancellationToken)
                : ReadFile(path, options, cancellationToken);
        }
        throw new FileNotFoundException($"{path}: no such model file or folder", path);
    }

    static LoadedCheckpoint ReadDirectory(string dir, CheckpointReadOptions options, CancellationToken ct)
    {
        var configPath = Path.Combine(dir, "config.json");
        if (File.Exists(configPath))
        {
            using var doc = JsonFiles.Read(configPath);
            var root = doc.RootElement;
            if (ClipModelFolder.IsNativeConfig(root)) return ClipModelFolder.Read(dir, options, ct);
            if (HuggingFaceClipConfig.IsClipConfig(root)) return ReadHuggingFaceFolder(dir, root, configPath, options, ct);
            if (!File.Exists(Path.Combine(dir, OpenClipConfig.FileName)))
                throw new InvalidDataException($"{configPath}: neither a SharpClip model config nor a Hugging Face CLIP config " +
                                               $"(model_type: {(root.ValueKind == JsonValueKind.Object && root.TryGetProperty("model_type", out var t) ? t.ToString() : "none")})");
        }
        if (File.Exists(Path.Combine(dir, OpenClipConfig.FileName))) return ReadOpenClipFolder(dir, options, ct);
        throw new InvalidDataException($"{dir}: not a model folder (expected config.json from SharpClip or Hugging Face, or {OpenClipConfig.FileName})");
    }

    static LoadedCheckpoint ReadHuggingFaceFolder(string dir, JsonElement configJson, string configPath, CheckpointReadOptions options, CancellationToken ct)
    {
        var config = HuggingFaceClipConfig.FromJson(configJson, configPath);
        var weights = FirstExisting(dir, "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
                      ?? throw new FileNotFoundException($"{dir}: Hugging Face CLIP folder without weights (model.safetensors or pytorch_model.bin)");
        var pre = Path.Combine(dir, "preprocessor_config.json");
        string? vocab = Path.Combine(dir, "vocab.json"), merges = Path.Combine(dir, "merges.txt");
        if (!File.Exists(vocab) || !File.Exists(merges)) vocab = merges = null;
        return Assemble(weights, "huggingface", config, File.Exists(pre) ? ReadPreprocessorConfig(pre) : null,
            vocab, merges, options, ct, declaredNaming: Naming.HuggingFace,
            declaredIn: new LayerCountFields(configPath, "text_config.num_hidden_layers", "vision_config.num_hidden_layers"));
    }

    /// <summary>A checkpoint's <c>preprocessor_config.json</c>, as its model can take it (<see cref="PreprocessingInfo.ForSquareInput"/>).</summary>
    internal static PreprocessingInfo ReadPreprocessorConfig(string path) => PreprocessingInfo.ReadHuggingFace(path).ForSquareInput(path);

    static LoadedCheckpoint ReadOpenClipFolder(string dir, CheckpointReadOptions options, CancellationToken ct)
    {
        var configPath = Path.Combine(dir, OpenClipConfig.FileName);
        var (config, preprocessing) = OpenClipConfig.Read(configPath);
        var weights = FirstExisting(dir, "open_clip_model.safetensors", "open_clip_pytorch_model.bin")
                      ?? throw new FileNotFoundException($"{dir}: open_clip folder without open_clip_model.safetensors or open_clip_pytorch_model.bin");
        string? vocab = Path.Combine(dir, "vocab.json"), merges = Path.Combine(dir, "merges.txt");
        if (!File.Exists(vocab) || !File.Exists(merges)) vocab = merges = null;
        return Assemble(weights, "open_clip", config, preprocessing, vocab, merges, options, ct, declaredNaming: Naming.OpenAI,
            declaredIn: new LayerCountFields(configPath, "model_cfg.text_cfg.layers", "model_cfg.vision_cfg.layers"));
    }

    static LoadedCheckpoint ReadFile(string path, CheckpointReadOptions options, CancellationToken ct) =>
        Assemble(path, null, null, null, null, null, options, ct, declaredNaming: null);

    internal enum Naming { OpenAI, HuggingFace, Exact }

    /// <summary>
    /// Loads weights, maps names, checks them and wraps the result. Everything happens inside one dispose scope: on
    /// success the final tensors are detached and handed to the <see cref="LoadedCheckpoint"/>; on failure the scope
    /// frees every tensor read so far.
    /// </summary>
    internal static LoadedCheckpoint Assemble(string weightsPath, string? format, ClipConfig? config, PreprocessingInfo? preprocessing,
        string? vocab, string? merges, CheckpointReadOptions options, CancellationToken ct, Naming? declaredNaming,
        LayerCountFields? declaredIn = null)
    {
        using var scope = NewDisposeScope();
        var (raw, fileFormat) = LoadRaw(weightsPath, ct);
        var dropped = new List<string>();
        var naming = declaredNaming ?? (HuggingFaceNaming.IsHuggingFace(raw.Keys) ? Naming.HuggingFace : Naming.OpenAI);
        var stateDict = naming switch
        {
            Naming.HuggingFace => HuggingFaceNaming.ToOpenAI(raw, weightsPath, dropped),
            Naming.OpenAI => OpenClipNaming.ToOpenAI(raw, weightsPath, dropped),
            _ => raw,
        };
        if (options.Validate)
        {
            ClipStateDictSchema.Validate(stateDict, config ?? ClipStateDictSchema.Infer(stateDict, weightsPath), weightsPath, config is null ? null : declaredIn);
            RequireFinite(stateDict, weightsPath);
        }
        ct.ThrowIfCancellationRequested();

        var owned = new Dictionary<string, Tensor>(stateDict.Count, StringComparer.Ordinal);
        foreach (var (k, t) in stateDict) owned[k] = t.DetachFromDisposeScope();
        return new LoadedCheckpoint(weightsPath, format ?? fileFormat, owned, config, preprocessing,
            options.VocabPath ?? vocab, options.VocabPath is not null ? options.MergesPath : merges, dropped);
    }

    /// <summary>NaN or infinite weights make every output NaN (NaN probabilities with exit 0): refused here, named.</summary>
    static void RequireFinite(IReadOnlyDictionary<string, Tensor> stateDict, string source)
    {
        var bad = stateDict.Where(kv => is_floating_point(kv.Value) && !StateDictLoader.AllFinite(kv.Value))
            .Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        if (bad.Count > 0) throw StateDictLoader.NonFiniteError(source, bad);
    }

    /// <summary>The tensors of one weights file (or a sharded set, via its index.json) under their stored names.</summary>
    static (Dictionary<string, Tensor> Tensors, string Format) LoadRaw(string path, CancellationToken ct)
    {
        if (path.EndsWith(".index.json", StringComparison.Ordinal)) return LoadSharded(path, ct);
        if (LooksLikeSafeTensors(path)) return (LoadSafeTensors(path, ct), "safetensors");
        if (TorchArchive.LooksLikeTorchFile(path))
        {
            using var archive = TorchArchive.Open(path);
            var found = PickledStateDict.Find(archive);
            return (archive.Materialize(found, ct), archive.Format);
        }
        if (StartsLikeOldPickle(path))
        {
            // Protocol 0/1 pickles (no 0x80 header) are never written by torch.save, but a hostile one should be named
            // for what it asks to run, not called unrecognised: read it with the same refusing host.
            using var fs = File.OpenRead(path);
            new PickleReader(fs, path, new TorchPickleHost(path, allowTorchScriptClasses: false)).Load();
            throw new InvalidDataException($"{path}: a protocol-0/1 pickle, not a PyTorch checkpoint (torch.save writes protocol 2 or later)");
        }
        throw new InvalidDataException($"{path}: unrecognised weights file (expected safetensors, a PyTorch .pt/.pth/.bin, or a TorchScript archive)");
    }

    /// <summary>A first byte that opens a protocol-0/1 pickle: GLOBAL, MARK, an empty container, or a text/int opcode.</summary>
    static bool StartsLikeOldPickle(string path)
    {
        using var fs = File.OpenRead(path);
        return fs.ReadByte() is 'c' or '(' or '}' or ']' or ')' or 'I' or 'L' or 'S' or 'V' or 'N' or 'F';
    }

    static Dictionary<string, Tensor> LoadSafeTensors(string path, CancellationToken ct)
    {
        using var file = SafeTensorsFile.Open(path);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var name in file.Names.Order(StringComparer.Ordinal))
        {
            ct.ThrowIfCancellationRequested();
            result[name] = file.ReadTensor(name);
        }
        return result;
    }

    // Hugging Face's sharded layout: {"weight_map": {"tensor name": "shard file"}}.
    static (Dictionary<string, Tensor>, string) LoadSharded(string indexPath, CancellationToken ct)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        using var doc = JsonFiles.Read(indexPath);
        if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{indexPath}: no 'weight_map' object");
        var byShard = map.EnumerateObject()
            .GroupBy(p => p.Value.GetString() ?? throw new InvalidDataException($"{indexPath}: weight_map entry '{p.Name}' is not a file name"))
            .ToList();
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        string format = "safetensors";
        foreach (var shard in byShard)
        {
            if (shard.Key.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(shard.Key))
                throw new InvalidDataException($"{indexPath}: shard path '{shard.Key}' leaves the model folder");
            var (tensors, f) = LoadRaw(Path.Combine(dir, shard.Key), ct);
            format = f;
            foreach (var p in shard)
                if (!tensors.ContainsKey(p.Name))
                    throw new InvalidDataException($"{Path.Combine(dir, shard.Key)}: missing key '{p.Name}' that {Path.GetFileName(indexPath)} places there");
            foreach (var (k, t) in tensors)
                if (!result.TryAdd(k, t)) throw new InvalidDataException($"{indexPath}: key '{k}' appears in more than one shard");
        }
        return (result, format);
    }

    static bool LooksLikeSafeTensors(string path)
    {
        Span<byte> head = stackalloc byte[9];
        using var fs = File.OpenRead(path);
        if (fs.ReadAtLeast(head, 9, throwOnEndOfStream: false) < 9) return path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);
        long n = BinaryPrimitives.ReadInt64LittleEndian(head);
        return (n > 0 && n < fs.Length && head[8] == (byte)'{') || path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);
    }

    static string? FirstExisting(string dir, params string[] names) =>
        names.Select(n => Path.Combine(dir, n)).FirstOrDefault(File.Exists);
}
