using SharpClip.Files;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpClip.Modeling;

/// <summary>
/// A CLIP model: an image tower (<see cref="VisionTransformer"/> or <see cref="ModifiedResNet"/>, under
/// <c>visual.*</c>), the text tower (<see cref="TextTransformer"/>, whose tensors sit at the top level as in
/// OpenAI's checkpoints) and the learned temperature <c>logit_scale</c>. State-dict keys are exactly OpenAI's, so
/// <c>state_dict()</c>, <c>named_parameters()</c> and checkpoints interoperate with PyTorch's <c>clip.model.CLIP</c>.
/// <para>Like a PyTorch module it starts in training mode; <see cref="FromStateDict"/> and <see cref="Load"/> return
/// it in eval mode (the ResNet's BatchNorm then uses its running statistics). The Encode*/Forward methods follow
/// the ambient autograd mode (graphs for training); the Embed* methods are the inference path.</para>
/// </summary>
public sealed class ClipModel : TextTransformer, IClipEncoder
{
    readonly nn.Module<Tensor, Tensor> visual;
    Parameter logit_scale;

    /// <summary>A model of the given shape with the reference's random initialisation (<c>logit_scale</c> = log(1/0.07)).</summary>
    public ClipModel(ClipConfig config) : base(config, nameof(ClipModel))
    {
        visual = config.IsVisionTransformer ? new VisionTransformer(config) : new ModifiedResNet(config);
        logit_scale = new Parameter(torch.tensor((float)Math.Log(1 / 0.07)));
        if (visual is ModifiedResNet resnet && !UninitializedWeights.Active) resnet.InitializeParameters();
        RegisterComponents();
    }

    /// <summary>The learned log-temperature: logits are <c>exp(logit_scale)</c> × cosine similarity.</summary>
    public Tensor LogitScale => logit_scale;

    /// <summary>The image tower (a <see cref="VisionTransformer"/> or a <see cref="ModifiedResNet"/>).</summary>
    public nn.Module<Tensor, Tensor> Visual => visual;

    /// <summary>Image embeddings; follows the ambient autograd mode and the module's train/eval mode.</summary>
    /// <param name="pixels">[images, 3, resolution, resolution], normalised as CLIP's preprocessing does; any float dtype/device (converted).</param>
    /// <param name="normalize">L2-normalise each embedding.</param>
    /// <returns>[images, embed_dim] in the model's dtype, on its device.</returns>
    public Tensor EncodeImages(Tensor pixels, bool normalize = false)
    {
        if (pixels.dim() != 4 || pixels.shape[1] != 3)
            throw new ArgumentException($"pixels must be [images, 3, height, width]; got [{string.Join(",", pixels.shape)}]", nameof(pixels));
        // Both towers' positional embeddings fix the input size, as in the reference.
        if (pixels.shape[2] != Config.ImageResolution || pixels.shape[3] != Config.ImageResolution)
            throw new ArgumentException($"pixels are {pixels.shape[3]}×{pixels.shape[2]}; this model takes {Config.ImageResolution}×{Config.ImageResolution}", nameof(pixels));
        using var scope = torch.NewDisposeScope();
        var features = visual.forward(pixels.to(DType, Device));
        return (normalize ? Embeddings.L2Normalize(features) : features).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Logits exactly as the reference's forward computes them from features:
    /// <c>exp(logit_scale) · norm(image) @ norm(text)ᵀ</c>.
    /// </summary>
    /// <param name="imageFeatures">[images, embed_dim], raw or normalised.</param>
    /// <param name="textFeatures">[texts, embed_dim], raw or normalised.</param>
    /// <returns>[images, texts]: logits per image (transpose for logits per text).</returns>
    public Tensor Similarity(Tensor imageFeatures, Tensor textFeatures)
    {
        using var scope = torch.NewDisposeScope();
        var image = Embeddings.L2Normalize(imageFeatures);
        var text = Embeddings.L2Normalize(textFeatures);
        return (logit_scale.exp() * image.matmul(text.t())).MoveToOuterDisposeScope();
    }

    /// <summary>The reference's <c>CLIP.forward</c>: both encoders, then <see cref="Similarity"/>.</summary>
    /// <param name="pixels">[images, 3, resolution, resolution]</param>
    /// <param name="ids">[texts, context] token ids</param>
    /// <returns>logits per image [images, texts] and per text [texts, images] (its transpose).</returns>
    public (Tensor logitsPerImage, Tensor logitsPerText) Forward(Tensor pixels, Tensor ids)
    {
        using var scope = torch.NewDisposeScope();
        var logitsPerImage = Similarity(EncodeImages(pixels), EncodeTexts(ids));
        var logitsPerText = logitsPerImage.t();
        return (logitsPerImage.MoveToOuterDisposeScope(), logitsPerText.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Inference path for image embeddings: no autograd (<c>inference_mode</c>), intermediate tensors freed at once,
    /// result as float32 on the CPU whatever the model's dtype and device. Does not change train/eval mode.
    /// </summary>
    /// <returns>[images, embed_dim] float32, L2-normalised unless <paramref name="normalize"/> is false.</returns>
    public Tensor EmbedImages(Tensor pixels, bool normalize = true) =>
        Finite(Inference.Run(() => EncodeImages(pixels, normalize)), "image");

    /// <summary>
    /// Inference path for text embeddings; see <see cref="EmbedImages"/>. The batch is cut after its longest caption's
    /// end token (<see cref="TextPadding.Trim"/>): the same embeddings as the full context to float rounding, and for
    /// short prompts in a 77-token context most of the text tower's work saved.
    /// </summary>
    /// <param name="ids">[texts, context] token ids.</param>
    /// <param name="normalize">L2-normalise the embeddings.</param>
    /// <param name="trimPadding">False runs all context positions as the reference does (to measure or compare).</param>
    /// <returns>[texts, embed_dim] float32 on the CPU, L2-normalised unless <paramref name="normalize"/> is false.</returns>
    public Tensor EmbedTexts(Tensor ids, bool normalize = true, bool trimPadding = true) =>
        Finite(Inference.Run(() => EncodeTexts(trimPadding ? TextPadding.Trim(ids) : ids, normalize)), "text");

    /// <summary>Where the weights came from (a file or folder), named in errors; "the model" when built in memory.</summary>
    public string Source { get; private set; } = "the model";

    /// <summary>
    /// The inference path refuses NaN or infinite embeddings, naming <see cref="Source"/>: finite weights can still
    /// overflow, and a NaN would otherwise come out as NaN probabilities with exit 0 or fail deep in a JSON writer.
    /// </summary>
    internal Tensor Finite(Tensor embeddings, string what)
    {
        using (var finite = embeddings.isfinite())
        using (var all = finite.all())
            if (all.item<bool>()) return embeddings;
        embeddings.Dispose();
        throw new InvalidDataException($"{Source}: its {what} embeddings contain NaN or infinity (weights that overflow, or a training run that diverged)");
    }

    /// <summary>What another engine hands back from a tower: <paramref name="features"/> (taken over), L2-normalised when
    /// asked, refused when not finite — as <see cref="EmbedImages"/> / <see cref="EmbedTexts"/> finish theirs.</summary>
    internal Tensor FinishEmbeddings(Tensor features, bool normalize, string what)
    {
        if (!normalize) return Finite(features, what);
        using (features)
        {
            using var _ = torch.inference_mode();
            return Finite(Embeddings.L2Normalize(features), what);
        }
    }

    /// <summary>Refuses pixels that are not [images, 3, r, r] at this model's resolution, saying what they are.</summary>
    internal void RequireImageShape(Tensor pixels)
    {
        int r = Config.ImageResolution;
        if (pixels.dim() != 4 || pixels.shape[1] != 3)
            throw new ArgumentException($"pixels must be [images, 3, height, width]; got [{string.Join(",", pixels.shape)}]", nameof(pixels));
        if (pixels.shape[2] != r || pixels.shape[3] != r)
            throw new ArgumentException($"pixels are {pixels.shape[3]}×{pixels.shape[2]}; this model takes {r}×{r}", nameof(pixels));
    }

    /// <summary>Moves and converts the weights (floating-point parameters and buffers; BatchNorm's counter stays int64).</summary>
    public ClipModel To(Device device, ScalarType dtype)
    {
        if (!torch.is_floating_point(dtype)) throw new ArgumentException($"a model's dtype must be floating point, not {dtype}", nameof(dtype));
        this.to(device, dtype);
        return this;
    }

    /// <summary>
    /// Builds a model from a state dict in OpenAI's key naming. The architecture comes from
    /// <paramref name="config"/>, or when null is inferred from the shapes as <c>build_model</c> does
    /// (<see cref="ClipConfig.InferFromStateDict"/>). Every key and shape is checked before anything is loaded;
    /// fp16/bf16/fp64 weights are converted to float32 exactly. The model is returned in eval mode on the CPU in float32
    /// (call <see cref="To"/> to change that).
    /// </summary>
    /// <param name="stateDict">Tensor per key; OpenAI's JIT extras (input_resolution, context_length, vocab_size) are ignored.</param>
    /// <param name="sourceName">Named in every error message (usually the file).</param>
    /// <param name="config">The architecture; null to infer it from the shapes.</param>
    /// <exception cref="InvalidDataException">missing, unexpected, wrongly shaped or non-floating-point tensors; the message names the source and the keys.</exception>
    /// <param name="requireFinite">Refuse NaN/infinite weights; false for a state dict already checked (CheckpointLoader's are).</param>
    public static ClipModel FromStateDict(IReadOnlyDictionary<string, Tensor> stateDict, string sourceName, ClipConfig? config = null,
        bool requireFinite = true)
    {
        var entries = stateDict.ToDictionary(kv => kv.Key, kv => new StateDictLoader.Entry(kv.Value.shape, kv.Value.dtype));
        return Build(entries, key => stateDict[key].alias(), sourceName, config, requireFinite);
    }

    /// <summary>
    /// Loads a safetensors state dict in OpenAI's key naming (F32, F16 or BF16), reading one tensor at a time from the
    /// memory-mapped file. See <see cref="FromStateDict"/> for inference and checks.
    /// </summary>
    public static ClipModel Load(string safetensorsPath, ClipConfig? config = null)
    {
        using var file = SafeTensorsFile.Open(safetensorsPath);
        return Build(StateDictLoader.Entries(file), file.ReadTensor, safetensorsPath, config, requireFinite: true);
    }

    static ClipModel Build(IReadOnlyDictionary<string, StateDictLoader.Entry> entries, Func<string, Tensor> read, string sourceName, ClipConfig? config,
        bool requireFinite)
    {
        if (config is null)
        {
            try { config = ClipConfig.InferFromStateDict(entries.ToDictionary(e => e.Key, e => e.Value.Shape)); }
            catch (InvalidDataException e) { throw new InvalidDataException($"{sourceName}: {e.Message}", e); }
        }
        else config.RequireLayerCountsOf(entries.Keys, sourceName);
        var model = StateDictLoader.LoadFresh(UninitializedWeights.Build(() => new ClipModel(config)), entries, read, sourceName, requireFinite);
        model.Source = sourceName;
        return model;
    }
}
