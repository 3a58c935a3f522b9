using SharpClip.Checkpoints;
using SharpClip.Generation.Diffusion.Autoencoder;
using SharpClip.Generation.Diffusion.Conditioning;
using SharpClip.Generation.Diffusion.Sampling;
using SharpClip.Generation.Diffusion.UNet;
using SharpClip.Modeling;
using SharpClip.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Diffusion;

/// <summary>
/// A Stable Diffusion checkpoint split into its parts: a 1.x/2.x single file (<c>.safetensors</c>, or <c>.ckpt</c>
/// through the pickle reader that never executes code) by key prefix — the U-Net (<c>model.diffusion_model.</c>), the
/// KL autoencoder (<c>first_stage_model.</c>), the text tower (SD 1.x: HF CLIPTextModel names under
/// <c>cond_stage_model.transformer.text_model.</c>; SD 2.x: OpenCLIP's names under <c>cond_stage_model.model.</c>) and
/// the schedule buffers at top level — or a diffusers folder (<see cref="Diffusers.DiffusersFolder"/>), seen under the
/// same names. <c>model_ema.*</c> copies are ignored; any other key is an error, as is a missing or mis-shaped one —
/// always one message naming the file and the key, and never a half-loaded model. Weights in fp16/bf16 are converted
/// to float32 as they are copied into the models.
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
    /// <summary>Key prefix of SD 2.x's OpenCLIP text tower (FrozenOpenCLIPEmbedder's <c>model</c>, OpenAI-style names).</summary>
    public const string OpenClipTextPrefix = "cond_stage_model.model.";
    const string EmaPrefix = "model_ema.";
    // What FrozenOpenCLIPEmbedder keeps of the CLIP model but a diffusion model never uses.
    static readonly string[] OpenClipUnused = ["text_projection", "logit_scale"];

    /// <summary>The DDPM buffers LatentDiffusion registers at top level.</summary>
    public static readonly IReadOnlySet<string> ScheduleBufferNames = new HashSet<string>(StringComparer.Ordinal)
    {
        "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
        "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod", "posterior_variance",
        "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2",
    };

    readonly CheckpointTensors _tensors;
    readonly string _textPrefix;
    readonly string? _padToken;

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

    StableDiffusionCheckpoint(CheckpointTensors tensors, string textPrefix, UNetConfig unet, TextEncoderConfig text,
        NoiseSchedule schedule, double scaleFactor, IReadOnlyList<string> ignored, string? padToken)
        : this(tensors, textPrefix, unet, text, schedule, scaleFactor, ignored) => _padToken = padToken;

    /// <summary>β bounds of the configured linear schedule (used when the file stores none or the same one).</summary>
    public (double Start, double End) LinearBetas { get; private init; } = (0.00085, 0.012);

    /// <summary>What the U-Net predicts (ε or v).</summary>
    public Prediction Prediction { get; private init; }

    /// <summary>Where <see cref="Prediction"/> came from: the config given, the folder's scheduler config, or the default.</summary>
    public string PredictionSource { get; private init; } = "";

    /// <summary>
    /// The text layers to skip unless a run says otherwise: 2 (the penultimate layer) for an SD 2.x single file's
    /// OpenCLIP tower, as FrozenOpenCLIPEmbedder; 1 otherwise (a diffusers SD 2.x text encoder already ends there).
    /// </summary>
    public int DefaultClipSkip { get; private init; } = 1;

    /// <summary>The text tower is OpenCLIP's (SD 2.x single file): GELU, token ids padded with 0.</summary>
    public bool OpenClipText => _textPrefix == OpenClipTextPrefix;

    /// <summary>How DDIM picks timesteps: LDM's, or what a diffusers folder's scheduler config (or the given config) says.</summary>
    public DdimTimesteps Ddim { get; private init; } = DdimTimesteps.Ldm;

    /// <summary>A diffusers folder's <c>tokenizer/</c> (vocab.json + merges.txt); null for a single file.</summary>
    public string? TokenizerPath { get; private init; }

    /// <summary>Differences between SharpClip's run and what the checkpoint's own configs would do.</summary>
    public IReadOnlyList<string> Notes { get; private init; } = [];

    /// <summary>
    /// The id prompts are padded with: the tokenizer's pad token in a diffusers folder, 0 for OpenCLIP
    /// (<c>open_clip.tokenize</c>), else the end-of-text id (SD 1.x's CLIPTokenizer).
    /// </summary>
    public int PadId(ClipTokenizer tokenizer)
    {
        if (_padToken is not null)
            return tokenizer.Vocabulary.TryGetId(_padToken, out int id) ? id
                : throw new InvalidDataException($"{Path}: the tokenizer's pad token '{_padToken}' is not in its vocabulary");
        return OpenClipText ? 0 : tokenizer.EndOfText;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path => _tensors.Path;

    /// <summary>"safetensors", the PyTorch archive format, or "diffusers folder".</summary>
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
        if (Diffusers.DiffusersFolder.Recognizes(path)) return true;
        if (!File.Exists(path)) return false;
        if (path.EndsWith(".ckpt", StringComparison.OrdinalIgnoreCase)) return true;
        if (!path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return false;
        using var tensors = CheckpointTensors.Open(path, CancellationToken.None);
        return tensors.Entries.Keys.Any(k => k.StartsWith(UNetPrefix, StringComparison.Ordinal));
    }

    /// <summary>
    /// Opens a checkpoint (a single file or a diffusers folder) and reads its architecture; the weights are read by the
    /// Load methods. For a folder, its configs give the architecture and <paramref name="config"/> adds only the
    /// prediction and the clip skip.
    /// </summary>
    public static StableDiffusionCheckpoint Open(string path, StableDiffusionConfig? config = null, CancellationToken cancellationToken = default)
    {
        config ??= new StableDiffusionConfig();
        if (Diffusers.DiffusersFolder.Recognizes(path)) return OpenFolder(path, config, cancellationToken);
        var tensors = CheckpointTensors.Open(path, cancellationToken);
        try
        {
            var entries = tensors.Entries;
            bool openClip = entries.Keys.Any(k => k.StartsWith(OpenClipTextPrefix, StringComparison.Ordinal));
            bool newerText = entries.Keys.Any(k => k.StartsWith(TextPrefix, StringComparison.Ordinal));
            string textPrefix = openClip ? OpenClipTextPrefix : newerText ? TextPrefix : OlderTextPrefix;
            var ignored = new List<string>();
            var unexpected = new List<string>();
            foreach (var key in entries.Keys.Order(StringComparer.Ordinal))
            {
                if (key.StartsWith(UNetPrefix, StringComparison.Ordinal) || key.StartsWith(AutoencoderPrefix, StringComparison.Ordinal)
                    || ScheduleBufferNames.Contains(key))
                    continue;
                if (key.StartsWith(textPrefix, StringComparison.Ordinal))
                {
                    if (key == textPrefix + "embeddings.position_ids" || openClip && OpenClipUnused.Contains(key[textPrefix.Length..])) ignored.Add(key);
                    continue;
                }
                if (key.StartsWith(EmaPrefix, StringComparison.Ordinal)) ignored.Add(key);
                else unexpected.Add(key);
            }
            if (unexpected.Count > 0)
                throw new InvalidDataException($"{path}: unexpected key '{unexpected[0]}'" + (unexpected.Count > 1 ? $" (and {unexpected.Count - 1} more)" : "") +
                                               $": not part of a Stable Diffusion checkpoint ({UNetPrefix}*, {AutoencoderPrefix}*, {TextPrefix}* or {OpenClipTextPrefix}*, schedule buffers)");
            foreach (var (prefix, what) in new[] { (UNetPrefix, "U-Net"), (AutoencoderPrefix, "autoencoder"), (textPrefix, "text encoder") })
                if (!entries.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal)))
                    throw new InvalidDataException($"{path}: no {what} weights (no key starts with '{prefix}'); not a complete Stable Diffusion checkpoint");

            var unet = config.UNet ?? UNetWeightShapes.Infer(Part(entries, UNetPrefix), path, UNetPrefix,
                config.NumHeads is not null || config.NumHeadChannels is not null ? (config.NumHeads ?? -1, config.NumHeadChannels ?? -1) : null);
            var text = config.Text ?? (openClip
                ? InferOpenClipText(Part(entries, textPrefix), path, config.TextHeads)
                : TextEncoderConfig.Infer(Part(entries, textPrefix), path, textPrefix, config.TextHeads, Activation.QuickGelu));
            var schedule = ReadSchedule(tensors, config, path);
            return new StableDiffusionCheckpoint(tensors, textPrefix, unet, text, schedule, config.ScaleFactor, ignored)
            {
                LinearBetas = (config.LinearStart, config.LinearEnd),
                Prediction = config.Prediction ?? Prediction.Epsilon,
                PredictionSource = config.Prediction is null ? "default: a single file does not say (SD 2.x 768-v files need --prediction v)" : "configured",
                DefaultClipSkip = config.ClipSkip ?? (openClip ? 2 : 1),
                Ddim = config.Ddim ?? DdimTimesteps.Ldm,
            };
        }
        catch
        {
            tensors.Dispose();
            throw;
        }
    }

    static StableDiffusionCheckpoint OpenFolder(string path, StableDiffusionConfig given, CancellationToken cancellationToken)
    {
        var folder = Diffusers.DiffusersFolder.Open(path, cancellationToken);
        var tensors = folder.Tensors;
        try
        {
            var config = folder.Config;
            var vaeShapes = Part(tensors.Entries, AutoencoderPrefix);
            var inferred = AutoencoderShape.Infer(vaeShapes, $"{path} (vae/)");
            AutoencoderShape.RequireAgreement(folder.Autoencoder, inferred, vaeShapes, folder.AutoencoderConfigPath);
            var ignored = tensors.Entries.Keys.Where(k => k == TextPrefix + "embeddings.position_ids").ToList();
            var prediction = given.Prediction ?? config.Prediction;
            return new StableDiffusionCheckpoint(tensors, TextPrefix, config.UNet!, config.Text!, ReadSchedule(tensors, config, path), config.ScaleFactor,
                ignored, folder.PadToken)
            {
                LinearBetas = (config.LinearStart, config.LinearEnd),
                Prediction = prediction ?? Prediction.Epsilon,
                PredictionSource = given.Prediction is not null ? "configured"
                    : config.Prediction is not null ? $"{folder.SchedulerConfigPath} (prediction_type)" : "default: the scheduler config does not say",
                DefaultClipSkip = given.ClipSkip ?? 1,
                Ddim = given.Ddim ?? config.Ddim ?? DdimTimesteps.Ldm,
                TokenizerPath = folder.TokenizerPath,
                Notes = folder.Notes,
            };
        }
        catch
        {
            tensors.Dispose();
            throw;
        }
    }

    // SD 2.x's OpenCLIP tower under OpenAI's names: sizes from the embeddings and the first block, 64-wide heads, GELU.
    static TextEncoderConfig InferOpenClipText(IReadOnlyDictionary<string, long[]> shapes, string source, int? heads)
    {
        long[] Shape(string key, int rank)
        {
            if (!shapes.TryGetValue(key, out var s)) throw new InvalidDataException($"{source}: missing key '{OpenClipTextPrefix}{key}'");
            if (s.Length != rank) throw new InvalidDataException($"{source}: key '{OpenClipTextPrefix}{key}' has shape [{string.Join(",", s)}], expected {rank} dimensions");
            return s;
        }
        var tokens = Shape("token_embedding.weight", 2);
        var positions = Shape("positional_embedding", 2);
        int layers = 0;
        while (shapes.ContainsKey($"transformer.resblocks.{layers}.ln_1.weight")) layers++;
        if (layers == 0) throw new InvalidDataException($"{source}: missing key '{OpenClipTextPrefix}transformer.resblocks.0.ln_1.weight' (no text encoder layers)");
        int width = checked((int)tokens[1]);
        try
        {
            return new TextEncoderConfig
            {
                VocabSize = checked((int)tokens[0]), ContextLength = checked((int)positions[0]), Width = width, Layers = layers,
                Heads = heads ?? Math.Max(1, width / 64), MlpWidth = checked((int)Shape("transformer.resblocks.0.mlp.c_fc.weight", 2)[0]),
                Activation = Activation.Gelu,
            }.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: the text encoder under '{OpenClipTextPrefix}' does not fit: {e.Message}", e);
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
        var model = UninitializedWeights.Build(() => new UNetModel(UNetConfig));
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

    /// <summary>Builds the text encoder and fills it from the file's Hugging Face-named (or SD 2.x's OpenCLIP-named) tensors.</summary>
    public ConditioningTextEncoder LoadTextEncoder()
    {
        if (OpenClipText)
        {
            var tower = UninitializedWeights.Build(() => new ConditioningTextEncoder(TextConfig));
            try
            {
                Fill(tower, OpenClipTextPrefix, "text encoder", $" (OpenCLIP text tower: {TextConfig.Layers} layers, width {TextConfig.Width})");
                return tower;
            }
            catch
            {
                tower.Dispose();
                throw;
            }
        }
        var shapes = Part(_tensors.Entries, _textPrefix);
        var expected = TextConfig.HuggingFaceShapes().ToDictionary(e => e.Key, e => e.Shape, StringComparer.Ordinal);
        var problems = Problems(expected, shapes.Where(kv => kv.Key != "embeddings.position_ids").ToDictionary(), _textPrefix);
        if (problems.Count > 0) throw Misfit("text encoder", problems, "");

        var model = UninitializedWeights.Build(() => new ConditioningTextEncoder(TextConfig));
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
        try
        {
            return AutoencoderKL.FromTensors(entries, k => _tensors.Read(AutoencoderPrefix + k), $"{Path} (autoencoder tensors under '{AutoencoderPrefix}')",
                scaleFactor: ScaleFactor);
        }
        catch (InvalidDataException e) when (_tensors.IsComposite)
        {
            // The loader names ldm keys; a folder's user knows its own names and files.
            var message = e.Message;
            foreach (var key in entries.Keys.OrderByDescending(k => k.Length))
                message = message.Replace($"'{key}'", _tensors.Describe(AutoencoderPrefix + key), StringComparison.Ordinal);
            throw new InvalidDataException(message, e);
        }
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
        var actual = Part(_tensors.Entries, prefix).Where(kv => !IgnoredKeys.Contains(prefix + kv.Key)).ToDictionary(StringComparer.Ordinal);
        var problems = Problems(expected, actual, prefix);
        if (problems.Count > 0) throw Misfit(what, problems, detail);
        var entries = expected.Keys.ToDictionary(k => k, k => new StateDictLoader.Entry(_tensors.Entries[prefix + k].Shape, _tensors.Entries[prefix + k].DType));
        StateDictLoader.Load(module, entries, k => _tensors.Read(prefix + k), $"{Path} ({prefix}*)");
    }

    // Keys are named as the file spells them (a diffusers folder: its own name and which file).
    List<string> Problems(IReadOnlyDictionary<string, long[]> expected, IReadOnlyDictionary<string, long[]> actual, string prefix)
    {
        var problems = new List<string>();
        foreach (var (key, shape) in expected.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!actual.TryGetValue(key, out var found)) problems.Add($"missing key {_tensors.Describe(prefix + key)} [{string.Join(",", shape)}]");
            else if (!found.SequenceEqual(shape))
                problems.Add($"key {_tensors.Describe(prefix + key)} has shape [{string.Join(",", found)}], the model needs [{string.Join(",", shape)}]");
        }
        foreach (var key in actual.Keys.Where(k => !expected.ContainsKey(k)).Order(StringComparer.Ordinal))
            problems.Add($"unexpected key {_tensors.Describe(prefix + key)}");
        return problems;
    }

    InvalidDataException Misfit(string what, List<string> problems, string detail) =>
        new($"{Path}: {problems[0]}" + (problems.Count > 1 ? $" (and {problems.Count - 1} more problem(s) in the {what} weights)" : "") +
            $"; the {what} does not fit{detail}");

    /// <summary>Every tensor name under a prefix (the prefix kept), in order.</summary>
    internal IEnumerable<string> KeysUnder(string prefix) =>
        _tensors.Entries.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal);

    /// <summary>One tensor as stored (the caller disposes it).</summary>
    internal Tensor ReadTensor(string key) => _tensors.Read(key);

    /// <summary>
    /// Frees the stored weights once the models are filled (a <c>.ckpt</c> is read whole, so its state dict would
    /// otherwise stay in memory beside the models); the architecture, names and shapes stay, the Load methods refuse.
    /// </summary>
    public void ReleaseWeights() => _tensors.ReleaseWeights();

    public void Dispose() => _tensors.Dispose();
}
