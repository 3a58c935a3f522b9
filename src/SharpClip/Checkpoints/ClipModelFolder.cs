using SharpClip.Files;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpClip.Modeling;
using SharpClip.Vision;
using static TorchSharp.torch;

namespace SharpClip.Checkpoints;

/// <summary>
/// SharpClip's own model folder, what <c>sharpclip convert</c> writes and every verb's <c>--model</c> accepts:
/// <code>
/// config.json               {"sharpclip_format_version": 1, "architecture": {ClipConfig, snake_case}, "weights": ..., "vocab": ..., ...}
/// model.safetensors         OpenAI-named weights (memory-mapped on load, no code execution)
/// &lt;vocabulary file&gt;        copied as is (OpenAI's bpe_simple_vocab_16e6.txt.gz, or HF vocab.json + merges.txt)
/// preprocessor_config.json  Hugging Face's image-processor format (see <see cref="PreprocessingInfo"/>)
/// </code>
/// The architecture is stated, not inferred, so heads and activation survive (open_clip GELU models, ViT-H's head
/// width 80). Writing validates first and builds the folder beside the target before moving it into place, so a
/// failure never leaves a half-written model.
/// </summary>
public static class ClipModelFolder
{
    public const int FormatVersion = 1;
    public const string ConfigFileName = "config.json";
    public const string WeightsFileName = "model.safetensors";
    public const string PreprocessorFileName = "preprocessor_config.json";
    const string VersionField = "sharpclip_format_version";

    /// <summary>How <see cref="ClipConfig"/> is stored: the reference's snake_case names (embed_dim, vision_layers, ...).</summary>
    public static readonly JsonSerializerOptions ConfigJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    public static bool IsNativeConfig(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(VersionField, out _);

    /// <summary>True when <paramref name="dir"/> holds a SharpClip model folder.</summary>
    public static bool IsModelFolder(string dir)
    {
        var path = Path.Combine(dir, ConfigFileName);
        if (!File.Exists(path)) return false;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return IsNativeConfig(doc.RootElement);
        }
        catch (JsonException) { return false; }
    }

    /// <summary>
    /// Writes a model folder. <paramref name="stateDict"/> must be exactly a <paramref name="config"/> CLIP in OpenAI
    /// names (checked with <see cref="ClipStateDictSchema.Validate"/>); tensors are written in their own dtype.
    /// <paramref name="vocabPath"/> (and <paramref name="mergesPath"/> for a HF vocab.json) is copied in.
    /// An existing non-empty <paramref name="dir"/> is replaced only when <paramref name="overwrite"/> is set.
    /// </summary>
    public static void Write(string dir, ClipConfig config, IReadOnlyDictionary<string, Tensor> stateDict, string? vocabPath,
        PreprocessingInfo preprocessing, string? mergesPath = null, bool overwrite = false)
    {
        config.Validate();
        ClipStateDictSchema.Validate(stateDict, config, "state dict to write");
        preprocessing.Validate("preprocessing to write");
        foreach (var f in new[] { vocabPath, mergesPath })
            if (f is not null && !File.Exists(f)) throw new FileNotFoundException($"{f}: vocabulary file not found", f);
        if (mergesPath is not null && vocabPath is null) throw new ArgumentException("a merges file needs its vocab.json");
        string? vocabName = vocabPath is null ? null : Path.GetFileName(vocabPath);
        string? mergesName = mergesPath is null ? null : Path.GetFileName(mergesPath);
        foreach (var n in new[] { vocabName, mergesName })
            if (n is ConfigFileName or WeightsFileName or PreprocessorFileName)
                throw new ArgumentException($"vocabulary file name '{n}' collides with a file of the model folder");

        StagedFolder.Write(dir, overwrite, ConfigFileName, staging =>
        {
            SafeTensorsWriter.Write(Path.Combine(staging, WeightsFileName), stateDict, new Dictionary<string, string>
            {
                ["format"] = "pt",
                [VersionField] = FormatVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
            if (vocabPath is not null) File.Copy(vocabPath, Path.Combine(staging, vocabName!));
            if (mergesPath is not null) File.Copy(mergesPath, Path.Combine(staging, mergesName!));
            preprocessing.WriteHuggingFace(Path.Combine(staging, PreprocessorFileName));
            var json = new JsonObject
            {
                [VersionField] = FormatVersion,
                ["architecture"] = JsonSerializer.SerializeToNode(config, ConfigJson),
                ["weights"] = WeightsFileName,
                ["vocab"] = vocabName,
                ["merges"] = mergesName,
                ["preprocessor"] = PreprocessorFileName,
            };
            JsonFiles.WriteAtomic(Path.Combine(staging, ConfigFileName), json);
        });
    }

    /// <summary>Reads a folder written by <see cref="Write"/> (usually through <see cref="CheckpointLoader.Read"/>).</summary>
    public static LoadedCheckpoint Read(string dir, CheckpointReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        var configPath = Path.Combine(dir, ConfigFileName);
        using var doc = JsonFiles.Read(configPath);
        var root = doc.RootElement;
        if (!IsNativeConfig(root)) throw new InvalidDataException($"{configPath}: not a SharpClip model config (no '{VersionField}')");
        if (root.GetProperty(VersionField) is not { ValueKind: JsonValueKind.Number } v || !v.TryGetInt32(out int version) || version < 1)
            throw new InvalidDataException($"{configPath}: field '{VersionField}' is not a positive integer");
        if (version > FormatVersion)
            throw new InvalidDataException($"{configPath}: format version {version} was written by a newer SharpClip (this one reads up to {FormatVersion})");

        var config = ReadArchitecture(root, configPath);
        string weights = FileIn(dir, root, "weights", configPath, required: true)!;
        string? vocab = FileIn(dir, root, "vocab", configPath, required: false);
        string? merges = FileIn(dir, root, "merges", configPath, required: false);
        string? pre = FileIn(dir, root, "preprocessor", configPath, required: false);
        return CheckpointLoader.Assemble(weights, "sharpclip", config, pre is null ? null : CheckpointLoader.ReadPreprocessorConfig(pre),
            vocab, merges, options ?? new CheckpointReadOptions(), cancellationToken, CheckpointLoader.Naming.Exact,
            declaredIn: new LayerCountFields(configPath, "architecture.text_layers", "architecture.vision_layers"));
    }

    static ClipConfig ReadArchitecture(JsonElement root, string configPath)
    {
        if (!root.TryGetProperty("architecture", out var arch) || arch.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{configPath}: no 'architecture' object");
        // Every field must be stated: a missing one would silently take a default (e.g. a patch size).
        var required = JsonSerializer.SerializeToElement(new ClipConfig(), ConfigJson).EnumerateObject().Select(p => p.Name);
        foreach (var name in required)
            if (!arch.TryGetProperty(name, out _))
                throw new InvalidDataException($"{configPath}: field 'architecture.{name}' is missing");
        try
        {
            var config = arch.Deserialize<ClipConfig>(ConfigJson) ?? throw new InvalidDataException($"{configPath}: 'architecture' is null");
            return config.Validate();
        }
        catch (JsonException e) { throw new InvalidDataException($"{configPath}: field 'architecture{e.Path?.TrimStart('$')}' is malformed ({e.Message})", e); }
        catch (ArgumentException e) { throw new InvalidDataException($"{configPath}: {e.Message}", e); }
    }

    // A file named by the config, which must be a plain name inside the folder (no "../" escapes).
    static string? FileIn(string dir, JsonElement root, string field, string configPath, bool required)
    {
        if (!root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
            return required ? throw new InvalidDataException($"{configPath}: field '{field}' is missing") : null;
        var name = v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new InvalidDataException($"{configPath}: field '{field}' is not a file name");
        if (name.Length == 0 || name != Path.GetFileName(name) || name is "." or "..")
            throw new InvalidDataException($"{configPath}: field '{field}' = '{name}' must be a file name inside the model folder");
        var path = Path.Combine(dir, name);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{configPath}: field '{field}' names '{name}', which is not in the folder", path);
    }
}
