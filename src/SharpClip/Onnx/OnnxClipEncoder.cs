using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using SharpClip.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Onnx;

/// <summary>
/// The ONNX Runtime engine: runs the graphs <see cref="ClipOnnxGraphs"/> writes from a loaded <see cref="ClipModel"/>,
/// in memory (no file), and gives the same embeddings as the model's own <see cref="ClipModel.EmbedImages"/> /
/// <see cref="ClipModel.EmbedTexts"/>: float32 CPU tensors of the same shapes, normalised the same way, the same
/// padding trimmed, the same NaN check. Why: on AMD CPUs libtorch's bundled oneMKL takes its generic path, and ONNX
/// Runtime's MLAS kernels with fused LayerNorm/GELU and prepacked weights run the same towers 2-4× faster.
/// </summary>
/// <remarks>
/// <para>Each tower's session is built on first use (an image-only job never writes the text graph) and kept; the
/// graph holds a copy of the weights as they were then, so this is for inference, never for a model being trained.
/// <see cref="For"/> hands every caller of one model the same encoder.</para>
/// <para>Inputs and outputs are torch tensors' own memory wrapped as ONNX Runtime values: nothing is copied on the way
/// in or out. Sessions are thread-safe; this class is too.</para>
/// </remarks>
public sealed class OnnxClipEncoder : IClipEncoder, IDisposable
{
    static readonly SharedPerModel<OnnxClipEncoder> _shared = new();

    readonly ClipModel _model;
    readonly LazyTowers<InferenceSession, InferenceSession> _towers;
    readonly SessionOptions _sessionOptions;
    readonly int _imageChunk, _textChunk;
    bool _disposed;

    /// <summary>An encoder with sessions of its own (see <see cref="For"/> for the shared one).</summary>
    /// <exception cref="NotSupportedException">the model is not on the CPU in float32 (the graphs are float32).</exception>
    public OnnxClipEncoder(ClipModel model, OnnxEngineOptions? options = null)
    {
        RequireExportable(model);
        _model = model;
        Options = options ?? new OnnxEngineOptions();
        _imageChunk = Options.ImageChunk ?? OnnxEngineOptions.DefaultChunk(image: true, model.Config.IsVisionTransformer);
        _textChunk = Options.TextChunk ?? OnnxEngineOptions.DefaultChunk(image: false, model.Config.IsVisionTransformer);
        if (_imageChunk <= 0 || _textChunk <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), $"chunk sizes must be positive; got image {_imageChunk}, text {_textChunk}");
        _sessionOptions = CreateSessionOptions(Options);
        _towers = new(
            () => CreateSession(ClipOnnxGraphs.ImageTower(_model, Options.FusedAttention, Options.Quantization,
                contribResidualNorm: Options.FusedResidualNorm, calibration: Options.Calibration)),
            () => CreateSession(ClipOnnxGraphs.TextTower(_model, Options.FusedAttention, Options.Quantization,
                contribResidualNorm: Options.FusedResidualNorm)));
    }

    /// <summary>The encoder for <paramref name="model"/>, made once per model object and shared while the model lives.</summary>
    public static OnnxClipEncoder For(ClipModel model, OnnxEngineOptions? options = null)
    {
        options ??= new OnnxEngineOptions();
        return _shared.Get(model, known => !known._disposed && known.Options == options, () => new OnnxClipEncoder(model, options));
    }

    /// <summary>Whether this engine can run <paramref name="model"/>; the reason when it cannot.</summary>
    public static bool CanRun(ClipModel model, out string reason)
    {
        if (model.Device.type != DeviceType.CPU) { reason = $"the model is on {model.Device}; the ONNX engine runs on the CPU"; return false; }
        if (model.DType != ScalarType.Float32) { reason = $"the model computes in {model.DType}; the ONNX engine runs float32"; return false; }
        reason = "";
        return true;
    }

    public OnnxEngineOptions Options { get; }

    public ClipConfig Config => _model.Config;

    /// <summary>The intra-op thread count the sessions use.</summary>
    public int IntraOpThreads => _sessionOptions.IntraOpNumThreads;

    /// <summary>See <see cref="IClipEncoder.EmbedImages"/>.</summary>
    public Tensor EmbedImages(Tensor pixels, bool normalize = true)
    {
        _model.RequireImageShape(pixels);
        using var scope = torch.NewDisposeScope();
        var input = pixels.detach().to(ScalarType.Float32, CPU).contiguous();
        var features = Run(_towers.Image, ClipOnnxGraphs.PixelValues, input, TensorElementType.Float, ClipOnnxGraphs.ImageEmbeds, _imageChunk, trim: false);
        return Finish(features, normalize, "image").MoveToOuterDisposeScope();
    }

    /// <summary>See <see cref="IClipEncoder.EmbedTexts"/>.</summary>
    public Tensor EmbedTexts(Tensor ids, bool normalize = true, bool trimPadding = true)
    {
        TextTransformer.RequireTokenIds(ids, Config.ContextLength);
        using var scope = torch.NewDisposeScope();
        var used = trimPadding ? TextPadding.Trim(ids) : ids;
        var input = used.to(ScalarType.Int64, CPU).contiguous();
        var features = Run(_towers.Text, ClipOnnxGraphs.InputIds, input, TensorElementType.Int64, ClipOnnxGraphs.TextEmbeds, _textChunk, trimPadding);
        return Finish(features, normalize, "text").MoveToOuterDisposeScope();
    }

    Tensor Finish(Tensor features, bool normalize, string what) => _model.FinishEmbeddings(features, normalize, what);

    /// <summary>
    /// One tower over a batch, <paramref name="chunk"/> rows per ONNX Runtime run: each chunk's rows of the input tensor's
    /// memory in, the same rows of a new [batch, embed_dim] float32 tensor's memory out (rows of a contiguous tensor are
    /// contiguous, so nothing is copied). With <paramref name="trim"/> each chunk of token ids runs only up to its own last
    /// end token (contiguous again, a small copy), which the batch-wide trim cannot see.
    /// </summary>
    Tensor Run(InferenceSession session, string inputName, Tensor input, TensorElementType inputType, string outputName, int chunk, bool trim)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long batch = input.shape[0];
        var output = torch.empty(batch, Config.EmbedDim, dtype: ScalarType.Float32);
        try
        {
            using var run = new RunOptions();
            for (long start = 0; start < batch; start += chunk)
            {
                using var scope = torch.NewDisposeScope();
                long rows = Math.Min(chunk, batch - start);
                var part = input.narrow(0, start, rows);
                if (trim) part = TextPadding.Trim(part).contiguous();
                using var inputValue = Wrap(part, inputType);
                using var outputValue = Wrap(output.narrow(0, start, rows), TensorElementType.Float);
                session.Run(run, [inputName], [inputValue], [outputName], [outputValue]);
            }
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    /// <summary>A contiguous CPU tensor's memory as an ONNX Runtime value (no copy; the tensor must outlive it).</summary>
    static unsafe OrtValue Wrap(Tensor tensor, TensorElementType type)
    {
        var bytes = tensor.bytes;
        var address = (IntPtr)Unsafe.AsPointer(ref MemoryMarshal.GetReference(bytes));
        return OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, type, tensor.shape, address, bytes.Length);
    }

    InferenceSession CreateSession(global::Onnx.ModelProto graph) => new(graph.ToByteArray(), _sessionOptions);

    static SessionOptions CreateSessionOptions(OnnxEngineOptions options)
    {
        int threads = options.IntraOpThreads ?? torch.get_num_threads();
        if (threads <= 0) throw new ArgumentOutOfRangeException(nameof(options), threads, "intra-op threads must be positive");
        var so = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
        };
        so.AddSessionConfigEntry("session.intra_op.allow_spinning", options.AllowSpinning ? "1" : "0");
        return so;
    }

    static void RequireExportable(ClipModel model)
    {
        if (!CanRun(model, out var reason)) throw new NotSupportedException($"{model.Source}: {reason}");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _shared.Forget(_model, this);
        _towers.Dispose();
        _sessionOptions.Dispose();
    }
}
