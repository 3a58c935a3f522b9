using SharpClip.Checkpoints;
using SharpClip.Generation.Diffusion.Autoencoder;
using SharpClip.Generation.Diffusion.Conditioning;
using SharpClip.Generation.Diffusion.Sampling;
using SharpClip.Generation.Diffusion.UNet;
using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion;

/// <summary>
/// A Stable Diffusion 1.x single-file checkpoint (<c>.safetensors</c>, or <c>.ckpt</c> through the pickle reader that
/// never executes code) split into its parts by key prefix: the U-Net (<c>model.diffusion_model.</c>), the KL
/// autoencoder (<c>first_stage_model.</c>), the CLIP text tower (<c>cond_stage_model.transformer.text_model.</c>) and
/// the schedule buffers at top level. <c>model_ema.*</c> copies are ignored; any other key is an error, as is a
/// missing or mis-shaped one — always one message naming the file and the key, and never a half-loaded model.
/// Weights in fp16/bf16 are converted to float32 as they are copied into the models.
/// </summary>
public sealed class StableDiffusionCheckpoint : IDisposable
{
    /// <summary>Key prefix of the U-Net.</summary>
    public const string UNetPrefix = "model.diffusion_model.";
    /// <summary>Key prefix of the autoencoder.</summary>
    public const string AutoencoderPrefix = "first_stage_model.";
    /// <summary>Key prefix of the text tower (HF CLIPTextModel names follow).</summary>
    public const string TextPrefix = "cond_stage_model.transformer.text_model.";
    const string OlderTextPrefix = "cond_stage_model.transformer."; // transformers < 4.19 had no text_model level
    const string EmaPrefix = "model_ema.";

    /// <summary>The DDPM buffers LatentDiffusion registers at top level.</summary>
    public static readonly IReadOnlySet<string> ScheduleBufferNames = new HashSet<string>(StringComparer.Ordinal)
    {
        "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
        "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod", "posterior_variance",
        "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2",
    };

    readonly CheckpointTensors _tensors;
    readonly string _textPrefix;

    StableDiffusionCheckpoint(CheckpointTensors tensors, string textPrefix, UNetConfig unet, TextEncoderConfig text,
        NoiseSchedule schedule, double scaleFactor, IReadOnlyList<string> ignored)
    {
        _tensors = tensors;
        _textPrefix = textPrefix;
        UNetConfig = unet;
        TextConfig = text;
        Schedule = schedule;
        ScaleFactor = scaleFactor;
        IgnoredKeys = ignored;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path => _tensors.Path;

    /// <summary>"safetensors" or the PyTorch archive format.</summary>
    public string Format => _tensors.Format;

    /// <summary>The U-Net architecture (inferred from the weights, or as configured).</summary>
    public UNetConfig UNetConfig { get; }

    /// <summary>The text encoder's shape.</summary>
    public TextEncoderConfig TextConfig { get; }

    /// <summary>The training noise schedule (the file's <c>alphas_cumprod</c> when it differs from the configured one).</summary>
    public NoiseSchedule Schedule { get; }

    /// <summary>Latent scale factor (0.18215 for SD v1).</summary>
    public double ScaleFactor { get; }

    /// <summary>Keys present but deliberately not used (EMA copies, <c>position_ids</c>).</summary>
    public IReadOnlyList<string> IgnoredKeys { get; }

    /// <summary>
    /// Parameters per part counted from the stored shapes, without reading a weight: "unet", "vae", "text" (the
    /// ignored <c>position_ids</c> buffer and EMA copies left out), for <c>sharpclip info</c>.
    /// </summary>
    public IReadOnlyDictionary<string, long> PartParameterCounts => new Dictionary<string, long>
    {
        ["unet"] = Count(UNetPrefix),
        ["vae"] = Count(AutoencoderPrefix),
        ["text"] = Count(_textPrefix),
    };

    long Count(string prefix) => _tensors.Entries
        .Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal) && !IgnoredKeys.Contains(kv.Key))
        .Sum(kv => kv.Value.Shape.Aggregate(1L, (a, b) => checked(a * b)));

    /// <summary>Values stored per dtype name (every tensor of the file), for <c>sharpclip info</c>.</summary>
    public IReadOnlyDictionary<string, long> StoredValuesByDtype => _tensors.Entries.Values
        .GroupBy(e => e.DType.ToString())
        .ToDictionary(g => g.Key, g => g.Sum(e => e.Shape.Aggregate(1L, (a, b) => checked(a * b))));

    /// <summary>The KL autoencoder's architecture, read off its tensor shapes.</summary>
    public AutoencoderConfig AutoencoderConfig =>
        AutoencoderShape.Infer(Part(_tensors.Entries, AutoencoderPrefix), $"{Path} (autoencoder tensors under '{AutoencoderPrefix}')");

    /// <summary>Downsampling factor of the autoencoder: 2^(levels − 1), levels counted from <c>encoder.down.N</c>.</summary>
    public int AutoencoderDownsampleFactor
    {
        get
        {
            int levels = 0;
            while (_tensors.Entries.Keys.Any(k => k.StartsWith($"{AutoencoderPrefix}encoder.down.{levels}.", StringComparison.Ordinal))) levels++;
            return 1 << Math.Max(0, levels - 1);
        }
    }

    /// <summary>
    /// Whether <paramref name="path"/> looks like a Stable Diffusion single file: a <c>.ckpt</c>, or a safetensors file
    /// whose header has U-Net keys (only the header is read). A damaged safetensors file fails here with its own error.
    /// </summary>
    public static bool Recognizes(string path)
    {
        if (!File.Exists(path)) return false;
        if (path.EndsWith(".ckpt", StringComparison.OrdinalIgnoreCase)) return true;
        if (!path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return false;
        using var tensors = CheckpointTensors.Open(path, CancellationToken.None);
        return tensors.Entries.Keys.Any(k => k.StartsWith(UNetPrefix, StringComparison.Ordinal));
    }

    /// <summary>Opens a checkpoint and reads its architecture; the weights are read by the Load methods.</summary>
    public static StableDiffusionCheckpoint Open(string path, StableDiffusionConfig? config = null, CancellationToken cancellationToken = default)
    {
        config ??= new StableDiffusionConfig();
        var tensors = CheckpointTensors.Open(path, cancellationToken);
        try
        {
            var entries = tensors.Entries;
            bool newerText = entries.Keys.Any(k => k.StartsWith(TextPrefix, StringComparison.Ordinal));
            string textPrefix = newerText ? TextPrefix : OlderTextPrefix;
            var ignored = new List<string>();
            var unexpected = new List<string>();
            foreach (var key in entries.Keys.Order(StringComparer.Ordinal))
            {
                if (key.StartsWith(UNetPrefix, StringComparison.Ordinal) || key.StartsWith(AutoencoderPrefix, StringComparison.Ordinal)
                    || ScheduleBufferNames.Contains(key))
                    continue;
                if (key.StartsWith(textPrefix, StringComparison.Ordinal))
                {
                    if (key == textPrefix + "embeddings.position_ids") ignored.Add(key);
                    continue;
                }
                if (key.StartsWith(EmaPrefix, StringComparison.Ordinal)) ignored.Add(key);
                else unexpected.Add(key);
            }
            if (unexpected.Count > 0)
                throw new InvalidDataException($"{path}: unexpected key '{unexpected[0]}'" + (unexpected.Count > 1 ? $" (and {unexpected.Count - 1} more)" : "") +
                                               $": not part of a Stable Diffusion 1.x checkpoint ({UNetPrefix}*, {AutoencoderPrefix}*, {TextPrefix}*, schedule buffers)");
            foreach (var (prefix, what) in new[] { (UNetPrefix, "U-Net"), (AutoencoderPrefix, "autoencoder"), (textPrefix, "text encoder") })
                if (!entries.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal)))
                    throw new InvalidDataException($"{path}: no {what} weights (no key starts with '{prefix}'); not a complete Stable Diffusion 1.x checkpoint");

            var unet = config.UNet ?? UNetWeightShapes.Infer(Part(entries, UNetPrefix), path, UNetPrefix,
                config.NumHeads is not null || config.NumHeadChannels is not null ? (config.NumHeads ?? -1, config.NumHeadChannels ?? -1) : null);
            var text = config.Text ?? TextEncoderConfig.Infer(Part(entries, textPrefix), path, textPrefix, config.TextHeads, Activation.QuickGelu);
            var schedule = ReadSchedule(tensors, config, path);
            return new StableDiffusionCheckpoint(tensors, textPrefix, unet, text, schedule, config.ScaleFactor, ignored);
        }
        catch
        {
            tensors.Dispose();
            throw;
        }
    }

    static Dictionary<string, long[]> Part(IReadOnlyDictionary<string, (long[] Shape, ScalarType DType)> entries, string prefix) =>
        entries.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value.Shape, StringComparer.Ordinal);

    // The configured linear schedule; a file whose alphas_cumprod disagrees with it wins (its model was trained so).
    static NoiseSchedule ReadSchedule(CheckpointTensors tensors, StableDiffusionConfig config, string path)
    {
        var computed = NoiseSchedule.Linear(config.LinearStart, config.LinearEnd, config.Timesteps);
        if (!tensors.Entries.TryGetValue("alphas_cumprod", out var entry)) return computed;
        if (entry.Shape.Length != 1 || !torch.is_floating_point(entry.DType))
            throw new InvalidDataException($"{path}: key 'alphas_cumprod' has shape [{string.Join(",", entry.Shape)}] {entry.DType}; expected a float vector");
        using var stored = tensors.Read("alphas_cumprod");
        using var asFloat = stored.to(ScalarType.Float32);
        var values = asFloat.data<float>().ToArray();
        bool same = values.Length == computed.Timesteps && values.Select((v, i) => Math.Abs(v - computed.AlphasCumprod[i])).Max() <= 1e-6;
        if (same) return computed;
        try { return NoiseSchedule.FromAlphasCumprod(values); }
        catch (ArgumentException e) { throw new InvalidDataException($"{path}: key 'alphas_cumprod': {e.Message}", e); }
    }

    /// <summary>Builds the U-Net and fills it from the file (float32; fp16/bf16 weights converted).</summary>
    public UNetModel LoadUNet()
    {
        var model = new UNetModel(UNetConfig);
        try
        {
            Fill(model, UNetPrefix, "U-Net", $" (architecture: {UNetConfig})");
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Builds the text encoder and fills it from the file's Hugging Face-named tensors.</summary>
    public ConditioningTextEncoder LoadTextEncoder()
    {
        var shapes = Part(_tensors.Entries, _textPrefix);
        var expected = TextConfig.HuggingFaceShapes().ToDictionary(e => e.Key, e => e.Shape, StringComparer.Ordinal);
        var problems = Problems(expected, shapes.Where(kv => kv.Key != "embeddings.position_ids").ToDictionary(), _textPrefix);
        if (problems.Count > 0) throw Misfit("text encoder", problems, "");

        var model = new ConditioningTextEncoder(TextConfig);
        try
        {
            using var scope = torch.NewDisposeScope();
            var hf = expected.Keys.ToDictionary(k => "text_model." + k, k => _tensors.Read(_textPrefix + k), StringComparer.Ordinal);
            var openai = HuggingFaceNaming.ToOpenAI(hf, Path, []);
            StateDictLoader.Load(model, openai.ToDictionary(kv => kv.Key, kv => new StateDictLoader.Entry(kv.Value.shape, kv.Value.dtype)),
                k => openai[k].alias(), $"{Path} ({_textPrefix}*)");
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Builds the KL autoencoder (architecture inferred from its weights) and fills it from the file one tensor at a
    /// time, with this checkpoint's <see cref="ScaleFactor"/>; eval mode, float32.
    /// </summary>
    public AutoencoderKL LoadAutoencoder()
    {
        var entries = _tensors.Entries.Where(kv => kv.Key.StartsWith(AutoencoderPrefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[AutoencoderPrefix.Length..], kv => new StateDictLoader.Entry(kv.Value.Shape, kv.Value.DType), StringComparer.Ordinal);
        return AutoencoderKL.FromTensors(entries, k => _tensors.Read(AutoencoderPrefix + k), $"{Path} (autoencoder tensors under '{AutoencoderPrefix}')",
            scaleFactor: ScaleFactor);
    }

    /// <summary>
    /// The autoencoder's tensors with <c>first_stage_model.</c> stripped, read from the file as stored (the caller owns
    /// and disposes them); the autoencoder checks them against its architecture.
    /// </summary>
    public Dictionary<string, Tensor> ReadAutoencoderWeights()
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var key in _tensors.Entries.Keys.Where(k => k.StartsWith(AutoencoderPrefix, StringComparison.Ordinal)))
            result[key[AutoencoderPrefix.Length..]] = _tensors.Read(key);
        return result;
    }

    // Checks every key and shape of the module against the file's part (naming full file keys), then copies.
    void Fill(nn.Module module, string prefix, string what, string detail)
    {
        var expected = module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
        var problems = Problems(expected, Part(_tensors.Entries, prefix), prefix);
        if (problems.Count > 0) throw Misfit(what, problems, detail);
        var entries = expected.Keys.ToDictionary(k => k, k => new StateDictLoader.Entry(_tensors.Entries[prefix + k].Shape, _tensors.Entries[prefix + k].DType));
        StateDictLoader.Load(module, entries, k => _tensors.Read(prefix + k), $"{Path} ({prefix}*)");
    }

    static List<string> Problems(IReadOnlyDictionary<string, long[]> expected, IReadOnlyDictionary<string, long[]> actual, string prefix)
    {
        var problems = new List<string>();
        foreach (var (key, shape) in expected.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!actual.TryGetValue(key, out var found)) problems.Add($"missing key '{prefix}{key}' [{string.Join(",", shape)}]");
            else if (!found.SequenceEqual(shape))
                problems.Add($"key '{prefix}{key}' has shape [{string.Join(",", found)}], the model needs [{string.Join(",", shape)}]");
        }
        foreach (var key in actual.Keys.Where(k => !expected.ContainsKey(k)).Order(StringComparer.Ordinal))
            problems.Add($"unexpected key '{prefix}{key}'");
        return problems;
    }

    InvalidDataException Misfit(string what, List<string> problems, string detail) =>
        new($"{Path}: {problems[0]}" + (problems.Count > 1 ? $" (and {problems.Count - 1} more problem(s) in the {what} weights)" : "") +
            $"; the {what} does not fit{detail}");

    public void Dispose() => _tensors.Dispose();
}
