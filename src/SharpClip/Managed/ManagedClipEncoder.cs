using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Managed;

/// <summary>
/// The managed engine: a CLIP's two towers (a Vision Transformer or a ModifiedResNet image tower, see
/// <see cref="ManagedVisionTower"/> and <see cref="ManagedResNetTower"/>) on SharpClip's own AVX-512 (or AVX2) kernels in C#
/// (<see cref="MatrixKernel"/>), with the same embeddings as the model's <see cref="ClipModel.EmbedImages"/> /
/// <see cref="ClipModel.EmbedTexts"/> (float32 CPU tensors, normalised the same way, padding trimmed the same way, the
/// same NaN check). Why a third engine: ONNX Runtime's matrix products already run near this CPU's peak, and what it
/// loses is between them (a separate pass for each bias, LayerNorm, activation, residual sum and attention reshuffle);
/// here each of those happens while the product's output is still in registers.
/// </summary>
/// <remarks>
/// Each tower's weights are copied into the kernels' layout on first use and kept (the model's later changes are not
/// seen: for inference, never for a model being trained). Every call works in buffers of its own, so this class is
/// thread-safe. <see cref="For"/> hands every caller of one model the same encoder.
/// </remarks>
public sealed unsafe class ManagedClipEncoder : IClipEncoder, IDisposable
{
    static readonly SharedPerModel<ManagedClipEncoder> _shared = new();

    readonly ClipModel _model;
    readonly LazyTowers<IManagedImageTower, ManagedTextTower> _towers;
    bool _disposed;

    /// <summary>An encoder with weights of its own (see <see cref="For"/> for the shared one).</summary>
    /// <param name="model">A CLIP in float32 on the CPU.</param>
    /// <param name="threads">Threads per call; null takes libtorch's thread count, so every engine uses the same cores.</param>
    /// <exception cref="NotSupportedException">the model or this CPU is one the engine cannot run (<see cref="CanRun"/> says why).</exception>
    public ManagedClipEncoder(ClipModel model, int? threads = null)
    {
        if (!CanRun(model, out var reason)) throw new NotSupportedException($"{model.Source}: {reason}");
        _model = model;
        Threads = threads ?? torch.get_num_threads();
        if (Threads <= 0) throw new ArgumentOutOfRangeException(nameof(threads), Threads, "threads must be positive");
        _towers = new(
            () => Build<IManagedImageTower>("image", key => key.StartsWith("visual.", StringComparison.Ordinal),
                w => _model.Config.IsVisionTransformer ? new ManagedVisionTower(w, _model.Config) : new ManagedResNetTower(w, _model.Config)),
            () => Build("text", key => !key.StartsWith("visual.", StringComparison.Ordinal) && key != "logit_scale",
                w => new ManagedTextTower(w, _model.Config)));
    }

    /// <summary>The encoder for <paramref name="model"/>, made once per model object and shared while the model lives.</summary>
    public static ManagedClipEncoder For(ClipModel model) => _shared.Get(model, known => !known._disposed, () => new ManagedClipEncoder(model));

    /// <summary>Whether this engine can run <paramref name="model"/> on this CPU; the reason when it cannot.</summary>
    public static bool CanRun(ClipModel model, out string reason)
    {
        reason = !MatrixKernel.IsSupported ? "the managed engine needs AVX2 and FMA (this CPU or runtime has neither AVX-512 nor those)"
            : model.Device.type != DeviceType.CPU ? $"the model is on {model.Device}; the managed engine runs on the CPU"
            : model.DType != ScalarType.Float32 ? $"the model computes in {model.DType}; the managed engine runs float32"
            : "";
        return reason.Length == 0;
    }

    public ClipConfig Config => _model.Config;

    /// <summary>Threads each call uses.</summary>
    public int Threads { get; }

    /// <summary>
    /// The most images (texts) one pass of the tower takes; a larger batch runs as consecutive chunks, each image's
    /// features computed from its own pixels either way. Measured with ViT-B/32 on 2 quiet Zen 5 cores: texts of all 77
    /// positions at batch 4/8/16/32 ran 51.4/<b>61.9</b>/57.6/57.7 per second; 32 images ran 42.6/s as 4 chunks of 8
    /// and 39.1/s as 2 of 16 (<c>bench … engines</c>). Beyond these the activations stop fitting in cache between a
    /// layer's products. ResNets use the same chunk of images (not tuned for them).
    /// </summary>
    public const int ImageChunk = 8, TextChunk = 8;

    /// <summary>See <see cref="IClipEncoder.EmbedImages"/>.</summary>
    public Tensor EmbedImages(Tensor pixels, bool normalize = true)
    {
        var config = Config;
        _model.RequireImageShape(pixels);
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var scope = torch.NewDisposeScope();
        var input = pixels.detach().to(ScalarType.Float32, CPU).contiguous();
        int images = (int)input.shape[0];
        var tower = _towers.Image;
        var features = torch.empty(images, tower.EmbedDim, dtype: ScalarType.Float32);
        float* pixelData = (float*)TensorCopy.Address(input), featureData = (float*)TensorCopy.Address(features);
        long perImage = 3L * config.ImageResolution * config.ImageResolution;
        for (int start = 0; start < images; start += ImageChunk)
        {
            int count = Math.Min(ImageChunk, images - start);
            tower.Encode(pixelData + start * perImage, count, featureData + (long)start * tower.EmbedDim, Threads);
        }
        return Finish(features, normalize, "image").MoveToOuterDisposeScope();
    }

    /// <summary>See <see cref="IClipEncoder.EmbedTexts"/>.</summary>
    public Tensor EmbedTexts(Tensor ids, bool normalize = true, bool trimPadding = true)
    {
        TextTransformer.RequireTokenIds(ids, Config.ContextLength);
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var scope = torch.NewDisposeScope();
        var used = (trimPadding ? TextPadding.Trim(ids) : ids).to(ScalarType.Int64, CPU).contiguous();
        int texts = (int)used.shape[0];
        var tower = _towers.Text;
        var features = torch.empty(texts, tower.EmbedDim, dtype: ScalarType.Float32);
        float* featureData = (float*)TensorCopy.Address(features);
        for (int start = 0; start < texts; start += TextChunk)
        {
            using var chunkScope = torch.NewDisposeScope();
            int count = Math.Min(TextChunk, texts - start);
            // Each chunk runs only up to its own last end token (exact, as TextPadding.Trim explains).
            var part = used.narrow(0, start, count);
            if (trimPadding) part = TextPadding.Trim(part).contiguous();
            tower.Encode((long*)TensorCopy.Address(part), count, (int)part.shape[1], featureData + (long)start * tower.EmbedDim, Threads);
        }
        return Finish(features, normalize, "text").MoveToOuterDisposeScope();
    }

    Tensor Finish(Tensor features, bool normalize, string what) => _model.FinishEmbeddings(features, normalize, what);

    T Build<T>(string tower, Func<string, bool> belongs, Func<TowerWeights, T> make) where T : IDisposable
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();                             // the state dict's handles; the weights are copied out
        var weights = new TowerWeights(_model.state_dict(), belongs, _model.Source, "the managed engine");
        var made = make(weights);
        try
        {
            weights.RequireAllUsed(tower);
            return made;
        }
        catch
        {
            made.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _shared.Forget(_model, this);
        _towers.Dispose();
    }
}
