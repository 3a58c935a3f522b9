using SharpClip.Files;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpClip.Checkpoints;
using static TorchSharp.torch;

namespace SharpClip.Training;

/// <summary>
/// Where a run is: optimizer steps taken, and the data position that determines every later batch (the loader is a
/// pure function of seed, epoch and position, and CLIP training draws no other random numbers, so this is the
/// whole random state).
/// </summary>
/// <param name="Step">Optimizer steps taken.</param>
/// <param name="Epoch">The epoch being read (0-based).</param>
/// <param name="BatchInEpoch">Batches of that epoch already consumed.</param>
/// <param name="SamplesSeen">Training pairs processed so far.</param>
public sealed record TrainingPosition(long Step, int Epoch, long BatchInEpoch, long SamplesSeen)
{
    public static TrainingPosition Start { get; } = new(0, 0, 0, 0);
}

/// <summary>
/// A saved training state: a folder <c>step-NNNNNNNN</c> under a run's <c>checkpoints/</c> holding
/// <code>
/// model.safetensors      the model's float32 state dict (OpenAI names)
/// optimizer.safetensors  AdamW moments and step counts per parameter, and the objective's own parameters
/// state.json             position, the run's config, and the size and SHA-256 of both files
/// </code>
/// The folder is written under a temporary name and renamed into place, so a crash leaves either a complete
/// checkpoint or none; the hashes catch a checkpoint damaged later (disk full, truncated copy), and loading then
/// falls back to the previous one.
/// </summary>
public sealed class TrainingCheckpoint : IDisposable
{
    public const string ModelFile = "model.safetensors";
    public const string OptimizerFile = "optimizer.safetensors";
    public const string StateFile = "state.json";
    const string Format = "sharpclip-training-checkpoint";
    const int Version = 1;

    TrainingCheckpoint(string directory, TrainingPosition position, JsonNode? config, Dictionary<string, Tensor> model, Dictionary<string, Tensor> optimizer)
    {
        Directory = directory;
        Position = position;
        Config = config;
        Model = model;
        Optimizer = optimizer;
    }

    public string Directory { get; }
    public TrainingPosition Position { get; }

    /// <summary>The run's config as saved (for checking that a resume uses the same settings).</summary>
    public JsonNode? Config { get; }

    /// <summary>Model state dict (owned by this object).</summary>
    public IReadOnlyDictionary<string, Tensor> Model { get; }

    /// <summary>Optimizer and objective state (owned by this object).</summary>
    public IReadOnlyDictionary<string, Tensor> Optimizer { get; }

    /// <summary>The folder name for a step: zero-padded so names sort by step.</summary>
    public static string FolderName(long step) => $"step-{step.ToString("D8", CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Writes a checkpoint into <paramref name="checkpointsDir"/> atomically and deletes all but the newest
    /// <paramref name="keep"/> checkpoints. Returns the checkpoint's folder.
    /// </summary>
    public static string Save(string checkpointsDir, TrainingPosition position, IReadOnlyDictionary<string, Tensor> model,
        IReadOnlyDictionary<string, Tensor> optimizer, JsonNode? config, int keep)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        System.IO.Directory.CreateDirectory(checkpointsDir);
        var final = Path.Combine(checkpointsDir, FolderName(position.Step));
        var staging = Path.Combine(checkpointsDir, $".{FolderName(position.Step)}.{Guid.NewGuid():N}.tmp");
        System.IO.Directory.CreateDirectory(staging);
        try
        {
            SafeTensorsWriter.Write(Path.Combine(staging, ModelFile), model);
            SafeTensorsWriter.Write(Path.Combine(staging, OptimizerFile), optimizer);
            var files = new JsonObject();
            foreach (var f in new[] { ModelFile, OptimizerFile })
            {
                var path = Path.Combine(staging, f);
                files[f] = new JsonObject { ["bytes"] = new FileInfo(path).Length, ["sha256"] = Sha256(path) };
            }
            var state = new JsonObject
            {
                ["format"] = Format,
                ["version"] = Version,
                ["step"] = position.Step,
                ["epoch"] = position.Epoch,
                ["batch_in_epoch"] = position.BatchInEpoch,
                ["samples_seen"] = position.SamplesSeen,
                ["saved_at"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
                ["files"] = files,
                ["config"] = config?.DeepClone(),
            };
            File.WriteAllText(Path.Combine(staging, StateFile), state.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            if (System.IO.Directory.Exists(final)) System.IO.Directory.Delete(final, recursive: true);
            System.IO.Directory.Move(staging, final);
        }
        catch
        {
            try { if (System.IO.Directory.Exists(staging)) System.IO.Directory.Delete(staging, recursive: true); } catch (IOException) { }
            throw;
        }
        foreach (var old in List(checkpointsDir).Skip(keep)) TryDelete(old.Path);
        return final;
    }

    /// <summary>Checkpoint folders under <paramref name="checkpointsDir"/>, newest (highest step) first.</summary>
    public static IReadOnlyList<(long Step, string Path)> List(string checkpointsDir)
    {
        if (!System.IO.Directory.Exists(checkpointsDir)) return [];
        var found = new List<(long, string)>();
        foreach (var dir in System.IO.Directory.EnumerateDirectories(checkpointsDir, "step-*"))
        {
            var name = Path.GetFileName(dir);
            if (long.TryParse(name.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var step)) found.Add((step, dir));
        }
        return [.. found.OrderByDescending(f => f.Item1)];
    }

    /// <summary>
    /// Loads the newest checkpoint that is intact. A damaged one (missing or truncated file, hash mismatch, unreadable
    /// state) is reported through <paramref name="warn"/> and the previous one is tried. Null when there is none.
    /// </summary>
    public static TrainingCheckpoint? LoadLatest(string checkpointsDir, Action<string>? warn = null)
    {
        foreach (var (_, dir) in List(checkpointsDir))
        {
            try { return Load(dir); }
            catch (Exception e) when (e is IOException or InvalidDataException or JsonException or UnauthorizedAccessException or KeyNotFoundException or FormatException)
            {
                warn?.Invoke($"checkpoint {dir} is unusable ({e.Message}); falling back to the previous one");
            }
        }
        return null;
    }

    /// <summary>Loads and verifies one checkpoint folder.</summary>
    /// <exception cref="InvalidDataException">a file is missing, damaged or not what state.json describes; the message names it.</exception>
    public static TrainingCheckpoint Load(string dir)
    {
        var statePath = Path.Combine(dir, StateFile);
        if (!File.Exists(statePath)) throw new InvalidDataException($"{statePath}: missing");
        JsonNode state;
        try { state = JsonNode.Parse(File.ReadAllText(statePath)) ?? throw new InvalidDataException($"{statePath}: empty"); }
        catch (JsonException e) { throw new InvalidDataException($"{statePath}: not valid JSON ({e.Message})", e); }
        if ((string?)state["format"] != Format) throw new InvalidDataException($"{statePath}: not a SharpClip training checkpoint");
        if ((int?)state["version"] is not { } v || v > Version) throw new InvalidDataException($"{statePath}: unsupported version");
        long Number(string field) => (long?)state[field] ?? throw new InvalidDataException($"{statePath}: field '{field}' is missing");
        var position = new TrainingPosition(Number("step"), checked((int)Number("epoch")), Number("batch_in_epoch"), Number("samples_seen"));

        foreach (var f in new[] { ModelFile, OptimizerFile })
        {
            var path = Path.Combine(dir, f);
            var expected = state["files"]?[f] ?? throw new InvalidDataException($"{statePath}: no entry for {f}");
            if (!File.Exists(path)) throw new InvalidDataException($"{path}: missing");
            long bytes = new FileInfo(path).Length;
            if (bytes != (long?)expected["bytes"]) throw new InvalidDataException($"{path}: {bytes} bytes, state.json says {(long?)expected["bytes"]} (truncated?)");
            if (Sha256(path) != (string?)expected["sha256"]) throw new InvalidDataException($"{path}: SHA-256 does not match state.json (damaged)");
        }
        var model = ReadAll(Path.Combine(dir, ModelFile));
        Dictionary<string, Tensor> optimizer;
        try { optimizer = ReadAll(Path.Combine(dir, OptimizerFile)); }
        catch
        {
            foreach (var t in model.Values) t.Dispose();
            throw;
        }
        return new TrainingCheckpoint(dir, position, state["config"]?.DeepClone(), model, optimizer);
    }

    static Dictionary<string, Tensor> ReadAll(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        return file.Names.ToDictionary(n => n, n => file.ReadTensor(n).DetachFromDisposeScope());
    }

    static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    static void TryDelete(string dir)
    {
        try { System.IO.Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public void Dispose()
    {
        foreach (var t in Model.Values) t.Dispose();
        foreach (var t in Optimizer.Values) t.Dispose();
    }
}
