using System.Text.Json;
using SharpClip.Files;
using SharpClip.Generation.Diffusion.Conditioning;
using SharpClip.Generation.Diffusion.UNet;

namespace SharpClip.Generation.Diffusion.Diffusers;

/// <summary>
/// A diffusers Stable Diffusion folder (<c>unet/</c>, <c>vae/</c>, <c>text_encoder/</c>, <c>tokenizer/</c>,
/// <c>scheduler/</c>, each with its config) seen as a single-file checkpoint: its tensors under the ldm names
/// (<see cref="DiffusersNaming"/>) so the one loader reads both, its configs turned into a
/// <see cref="StableDiffusionConfig"/>. The architecture comes from the configs; the weights must be exactly what they
/// describe — a key the architecture lacks, one it needs and the file lacks, or a shape that differs is one error
/// naming the file and the key as the folder spells it.
/// </summary>
internal sealed class DiffusersFolder
{
    public const string UNetFolder = "unet", VaeFolder = "vae", TextFolder = "text_encoder", TokenizerFolder = "tokenizer", SchedulerFolder = "scheduler";
    public const string ConfigFile = "config.json", SchedulerConfigFile = "scheduler_config.json";

    DiffusersFolder(CheckpointTensors tensors, StableDiffusionConfig config, string? tokenizerPath, string? padToken, IReadOnlyList<string> notes)
    {
        Tensors = tensors;
        Config = config;
        TokenizerPath = tokenizerPath;
        PadToken = padToken;
        Notes = notes;
    }

    /// <summary>All tensors under ldm names (<c>model.diffusion_model.*</c>, <c>first_stage_model.*</c>, <c>cond_stage_model.transformer.text_model.*</c>).</summary>
    public CheckpointTensors Tensors { get; }

    /// <summary>The architecture, schedule, scale factor and prediction the configs declare.</summary>
    public StableDiffusionConfig Config { get; }

    /// <summary>The <c>tokenizer/</c> folder (vocab.json + merges.txt), null when absent.</summary>
    public string? TokenizerPath { get; }

    /// <summary>The tokenizer's pad token as its config names it (<c>&lt;|endoftext|&gt;</c> for SD 1.x, <c>!</c> for SD 2.x); null when not given.</summary>
    public string? PadToken { get; }

    /// <summary>The autoencoder <c>vae/config.json</c> declares (checked against the weights by the loader).</summary>
    public required Autoencoder.AutoencoderConfig Autoencoder { get; init; }

    /// <summary>The <c>vae/config.json</c> path, for messages.</summary>
    public required string AutoencoderConfigPath { get; init; }

    /// <summary>The scheduler config that was read, null when the folder has none.</summary>
    public string? SchedulerConfigPath { get; init; }

    /// <summary>Where SharpClip's run differs from what the folder's scheduler would do.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Whether <paramref name="path"/> is a folder with <c>unet/config.json</c> (a diffusers pipeline folder).</summary>
    public static bool Recognizes(string path) => Directory.Exists(path) && File.Exists(Path.Combine(path, UNetFolder, ConfigFile));

    public static DiffusersFolder Open(string folder, CancellationToken cancellationToken)
    {
        string Sub(string name)
        {
            var dir = Path.Combine(folder, name);
            if (!Directory.Exists(dir)) throw new InvalidDataException($"{folder}: no {name}/ folder; a diffusers Stable Diffusion folder has unet/, vae/, text_encoder/ (and tokenizer/, scheduler/)");
            return dir;
        }
        JsonElement Json(string file)
        {
            if (!File.Exists(file)) throw new FileNotFoundException($"{file}: missing (every diffusers model folder has its config)", file);
            using var doc = JsonFiles.Read(file);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{file}: not a JSON object");
            return doc.RootElement.Clone();
        }

        string unetDir = Sub(UNetFolder), vaeDir = Sub(VaeFolder), textDir = Sub(TextFolder);
        string unetConfigPath = Path.Combine(unetDir, ConfigFile), vaeConfigPath = Path.Combine(vaeDir, ConfigFile), textConfigPath = Path.Combine(textDir, ConfigFile);
        var unet = DiffusersConfigs.UNet(Json(unetConfigPath), unetConfigPath);
        var (vae, scale) = DiffusersConfigs.Autoencoder(Json(vaeConfigPath), vaeConfigPath);
        var text = TextEncoderConfig.FromHuggingFaceJson(Json(textConfigPath), textConfigPath);
        var schedulerPath = Path.Combine(folder, SchedulerFolder, SchedulerConfigFile);
        var scheduler = File.Exists(schedulerPath) ? DiffusersConfigs.ReadScheduler(Json(schedulerPath), schedulerPath) : null;

        var sources = new List<CheckpointTensors>();
        try
        {
            var routes = new Dictionary<string, CheckpointTensors.Route>(StringComparer.Ordinal);
            var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
            var namers = new List<(string Prefix, Func<string, string?> Name)>();

            // U-Net
            var unetFile = Open(WeightsFile(unetDir, "diffusion_pytorch_model"), sources, cancellationToken);
            var unetNaming = DiffusersNaming.ForUNet(unet);
            Route(unetFile, StableDiffusionCheckpoint.UNetPrefix, unetNaming.ToLdm, $"the U-Net {unetConfigPath} describes");
            namers.Add((StableDiffusionCheckpoint.UNetPrefix, k => unetNaming.ToDiffusers(k) is { } d ? $"'{d}' (in {unetFile.Path})" : null));

            // Autoencoder: Linear attention projections become the 1×1 convolutions ldm has.
            var vaeFile = Open(WeightsFile(vaeDir, "diffusion_pytorch_model"), sources, cancellationToken);
            var vaeNaming = DiffusersNaming.ForAutoencoder(vae, DiffusersNaming.UsesLegacyVaeAttention(vaeFile.Entries.Keys));
            Route(vaeFile, StableDiffusionCheckpoint.AutoencoderPrefix, vaeNaming.ToLdm, $"the autoencoder {vaeConfigPath} describes");
            foreach (var key in routes.Keys.Where(k => k.StartsWith(StableDiffusionCheckpoint.AutoencoderPrefix, StringComparison.Ordinal)).ToList())
            {
                var stored = routes[key].Source.Entries[routes[key].StoredKey].Shape;
                if (vaeNaming.IsLinearInDiffusers(key[StableDiffusionCheckpoint.AutoencoderPrefix.Length..]) && stored.Length == 2) shapes[key] = [.. stored, 1, 1];
            }
            namers.Add((StableDiffusionCheckpoint.AutoencoderPrefix, k => vaeNaming.ToDiffusers(k) is { } d ? $"'{d}' (in {vaeFile.Path})" : null));

            // Text encoder: an HF CLIPTextModel, the names SD 1.x single files use under cond_stage_model.transformer.
            var textFile = Open(WeightsFile(textDir, "model", "pytorch_model"), sources, cancellationToken);
            Route(textFile, StableDiffusionCheckpoint.TextPrefix, k => k.StartsWith("text_model.", StringComparison.Ordinal) ? k["text_model.".Length..] : null,
                "an HF CLIPTextModel (text_model.*)");
            namers.Add((StableDiffusionCheckpoint.TextPrefix, k => $"'text_model.{k}' (in {textFile.Path})"));

            var tensors = CheckpointTensors.Composite(folder, "diffusers folder", sources, routes, shapes, key =>
            {
                foreach (var (prefix, name) in namers)
                    if (key.StartsWith(prefix, StringComparison.Ordinal)) return name(key[prefix.Length..]);
                return null;
            });
            var tokenizerDir = Path.Combine(folder, TokenizerFolder);
            var config = new StableDiffusionConfig
            {
                UNet = unet, Text = text, ScaleFactor = scale, Prediction = scheduler?.Prediction,
                LinearStart = scheduler?.LinearStart ?? 0.00085, LinearEnd = scheduler?.LinearEnd ?? 0.012, Timesteps = scheduler?.Timesteps ?? 1000,
                Ddim = scheduler?.Ddim,
            };
            return new DiffusersFolder(tensors, config, Directory.Exists(tokenizerDir) ? tokenizerDir : null, PadTokenOf(tokenizerDir), scheduler?.Notes ?? [])
            {
                Autoencoder = vae, AutoencoderConfigPath = vaeConfigPath, SchedulerConfigPath = scheduler is null ? null : schedulerPath,
            };

            void Route(CheckpointTensors file, string prefix, Func<string, string?> toLdm, string what)
            {
                foreach (var key in file.Entries.Keys.Order(StringComparer.Ordinal))
                {
                    var ldm = toLdm(key) ?? throw new InvalidDataException($"{file.Path}: unexpected key '{key}': not part of {what}");
                    routes[prefix + ldm] = new CheckpointTensors.Route(file, key);
                }
            }
        }
        catch
        {
            foreach (var s in sources) s.Dispose();
            throw;
        }
    }

    static CheckpointTensors Open(string path, List<CheckpointTensors> sources, CancellationToken ct)
    {
        var t = CheckpointTensors.Open(path, ct);
        sources.Add(t);
        return t;
    }

    // diffusers' file names, full precision first; sharded weights are not read.
    static string WeightsFile(string dir, params string[] stems)
    {
        var candidates = stems.SelectMany(s => new[] { $"{s}.safetensors", $"{s}.fp16.safetensors", $"{s}.bin", $"{s}.fp16.bin" })
            .Select(n => Path.Combine(dir, n)).ToArray();
        if (candidates.FirstOrDefault(File.Exists) is { } found) return found;
        if (Directory.EnumerateFiles(dir, "*.index.json").FirstOrDefault() is { } index)
            throw new InvalidDataException($"{index}: sharded weights are not supported; merge the shards into one {stems[0]}.safetensors");
        throw new FileNotFoundException($"{dir}: no weights ({string.Join(", ", candidates.Select(Path.GetFileName))})", candidates[0]);
    }

    // special_tokens_map.json or tokenizer_config.json: "pad_token": "!" or {"content": "!"}.
    static string? PadTokenOf(string tokenizerDir)
    {
        foreach (var name in new[] { "special_tokens_map.json", "tokenizer_config.json" })
        {
            var file = Path.Combine(tokenizerDir, name);
            if (!File.Exists(file)) continue;
            using var doc = JsonFiles.Read(file);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("pad_token", out var pad))
            {
                if (pad.ValueKind == JsonValueKind.String) return pad.GetString();
                if (pad.ValueKind == JsonValueKind.Object && pad.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String) return c.GetString();
            }
        }
        return null;
    }
}
