using SharpClip.ZeroShot;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SharpClip.Checkpoints;
using SharpClip.Managed;
using SharpClip.Modeling;
using SharpClip.Onnx;
using SharpClip.Runtime;
using SharpClip.Text;
using SharpClip.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Pipelines;

/// <summary>
/// A loaded CLIP model with the tokenizer and image preprocessing it was trained with: the one object an application
/// needs to embed images and texts, compare them and classify zero-shot. Reads every checkpoint format
/// <see cref="CheckpointLoader"/> knows; owns the model's native memory (dispose it).
/// </summary>
public sealed class ClipPipeline : IDisposable
{
    readonly Lazy<ClipTokenizer> _tokenizer;
    readonly Lazy<string> _fingerprint;

    ClipPipeline(ClipModel model, Func<ClipTokenizer> tokenizer, ClipImageProcessor processor, ComputeTarget target,
        ClipPipelineOptions options, string source, string sourceFormat)
    {
        Model = model;
        (Encoder, EngineDescription) = SelectEngine(model, processor, options);
        _tokenizer = new Lazy<ClipTokenizer>(tokenizer);
        Processor = processor;
        Target = target;
        Options = options;
        Source = source;
        SourceFormat = sourceFormat;
        _fingerprint = new Lazy<string>(ComputeFingerprint);
    }

    /// <summary>The model's modules (libtorch): its weights, config and logit scale, and the training path.</summary>
    public ClipModel Model { get; }

    /// <summary>What computes the embeddings: <see cref="Model"/> itself, or ONNX Runtime running its graphs
    /// (<see cref="ClipPipelineOptions.Engine"/>).</summary>
    public IClipEncoder Encoder { get; }

    /// <summary>The engine chosen and why, for logs and benchmarks (e.g. "onnx (float32 on the CPU)").</summary>
    public string EngineDescription { get; }
    public ClipConfig Config => Model.Config;
    public ClipImageProcessor Processor { get; }
    public PreprocessingInfo Preprocessing => Processor.Preprocessing;
    public ComputeTarget Target { get; }
    public ClipPipelineOptions Options { get; }
    public string Source { get; }
    public string SourceFormat { get; }
    public int EmbeddingDimension => Config.EmbedDim;

    /// <summary>The tokenizer; loaded on first use so an image-only job needs no vocabulary.</summary>
    /// <exception cref="FileNotFoundException">the checkpoint carries no vocabulary and none was given.</exception>
    public ClipTokenizer Tokenizer => _tokenizer.Value;

    /// <summary>
    /// SHA-256 over the architecture, the preprocessing and every weight's bytes: two pipelines with the same
    /// fingerprint produce the same embeddings, which is what an index must know before mixing them.
    /// </summary>
    public string Fingerprint => _fingerprint.Value;

    /// <summary>Loads a model folder (SharpClip, Hugging Face, open_clip) or a bare weight file (.safetensors, .pt, .bin).</summary>
    public static ClipPipeline Load(string modelPath, ClipPipelineOptions? options = null)
    {
        options ??= new ClipPipelineOptions();
        if (options.BatchSize <= 0) throw new ArgumentException($"batch size must be positive, got {options.BatchSize}");
        using var checkpoint = CheckpointLoader.Read(modelPath, new CheckpointReadOptions { VocabPath = options.VocabPath });
        var config = checkpoint.ResolvedConfig;
        var processor = checkpoint.CreateImageProcessor();
        var tokenizer = checkpoint.TokenizerSource;
        var target = ComputeTarget.Select(options.Device, options.Precision);
        var model = ClipModel.FromStateDict(checkpoint.StateDict, modelPath, config, requireFinite: false); // CheckpointLoader checked
        try
        {
            model.To(target.Device, target.DType);
            return new ClipPipeline(model, tokenizer.Load, processor, target, options, modelPath, checkpoint.SourceFormat);
        }
        catch { model.Dispose(); throw; }
    }

    /// <summary>Token ids [texts, context] for <paramref name="texts"/>, as <c>clip.tokenize</c> makes them.</summary>
    public Tensor Tokenize(IReadOnlyList<string> texts, bool truncate = false) =>
        Tokenizer.Tokenize(texts, Config.ContextLength, truncate);

    /// <summary>Text embeddings [texts, dim] float32 on the CPU; L2-normalised unless <paramref name="normalize"/> is false.</summary>
    public Tensor EmbedTexts(IReadOnlyList<string> texts, bool normalize = true, bool truncate = false, CancellationToken cancellationToken = default)
    {
        if (texts.Count == 0) return torch.zeros(0, EmbeddingDimension);
        using var ids = Tokenize(texts, truncate);
        var parts = new List<Tensor>();
        try
        {
            for (long start = 0; start < texts.Count; start += Options.BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var batch = ids.narrow(0, start, Math.Min(Options.BatchSize, texts.Count - start));
                parts.Add(ForwardTexts(batch, normalize));
            }
            return torch.cat(parts, 0);
        }
        finally { foreach (var p in parts) p.Dispose(); }
    }

    /// <summary>One text's embedding as an array.</summary>
    public float[] EmbedText(string text, bool normalize = true)
    {
        using var e = EmbedTexts([text], normalize, truncate: true);
        return e.data<float>().ToArray();
    }

    /// <summary>
    /// Image embeddings in input order; an image that cannot be read gives an error result and the rest go on.
    /// Decoding runs in parallel and overlaps the model: the next batch is decoded while the model embeds this one, so
    /// at most two batches of images are in memory.
    /// </summary>
    public IReadOnlyList<EmbeddingResult> EmbedImages(IReadOnlyList<string> paths, bool normalize = true,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        var results = new EmbeddingResult[paths.Count];
        int done = 0;
        foreach (var (start, prepared) in Prefetched(paths.Count,
                     (s, n, r) => Processor.ProcessBatchInto(Slice(paths, s, n), Options.DecodeThreads, cancellationToken, r), cancellationToken))
            using (prepared)
            {
                EmbedPrepared(prepared, start, results, normalize);
                done += prepared.Count;
                progress?.Report(done);
            }
        return results;
    }

    /// <summary>
    /// Embeddings of in-memory encoded images (uploads, <c>DataContent</c>), in input order and one forward pass per
    /// batch, as <see cref="EmbedImages(IReadOnlyList{string}, bool, IProgress{int}?, CancellationToken)"/> does files:
    /// an image that cannot be decoded gives an error result naming it (<c>Name</c>) and the rest go on.
    /// </summary>
    public IReadOnlyList<EmbeddingResult> EmbedEncodedImages(IReadOnlyList<(byte[] Data, string Name)> images, bool normalize = true,
        CancellationToken cancellationToken = default)
    {
        var results = new EmbeddingResult[images.Count];
        foreach (var (start, prepared) in Prefetched(images.Count,
                     (s, n, r) => Processor.ProcessBatchInto(Slice(images, s, n), Options.DecodeThreads, cancellationToken, r), cancellationToken))
            using (prepared)
                EmbedPrepared(prepared, start, results, normalize);
        return results;
    }

    static List<T> Slice<T>(IReadOnlyList<T> items, int start, int count)
    {
        var slice = new List<T>(count);
        for (int i = start; i < start + count; i++) slice.Add(items[i]);
        return slice;
    }

    /// <summary>
    /// The batches of <paramref name="count"/> inputs, each decoded by <paramref name="prepare"/>(start, count) on a worker
    /// thread one batch ahead of the caller: while the caller runs the model on batch k, batch k+1 decodes, so decoding
    /// and the model share the cores instead of taking turns (neither keeps both cores busy all the time: the model has
    /// serial stretches between its matrix products, the decoder waits for the largest image of a batch). Batches come
    /// in order; the caller disposes each. An early exit (an exception in the caller) waits for the batch in flight and
    /// disposes it, so no decode outlives the call.
    /// </summary>
    /// <remarks>
    /// The first batch is a quarter of the batch size: nothing overlaps its decoding, so a full first batch kept the
    /// model idle for 0.3–0.45 s of a 6.5 s, 200-photo <c>embed</c> (a <c>perf</c> timeline); the engines run a quarter
    /// batch at nearly the same speed per image, and every later batch is full.
    /// </remarks>
    IEnumerable<(int Start, PreprocessedBatch Prepared)> Prefetched(int count,
        Func<int, int, BatchTensorRecycler, PreprocessedBatch> prepare, CancellationToken cancellationToken)
    {
        int batch = Options.BatchSize;
        int SizeAt(int start) => Math.Min(start == 0 ? FirstBatchSize(batch) : batch, count - start);
        using var recycler = new BatchTensorRecycler(); // a finished batch's tensor is the next one's
        Task<PreprocessedBatch>? next = null;
        Task<PreprocessedBatch> Start(int start) => Task.Run(() => prepare(start, SizeAt(start), recycler), cancellationToken);
        try
        {
            if (count > 0) next = Start(0);
            for (int start = 0; start < count;)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var prepared = next!.GetAwaiter().GetResult();
                int end = start + SizeAt(start);
                next = end < count ? Start(end) : null;
                yield return (start, prepared);
                start = end;
            }
        }
        finally
        {
            if (next is not null)
                try { next.GetAwaiter().GetResult().Dispose(); }
                catch (Exception) { } // the caller is already leaving with its own exception or cancellation
        }
    }

    /// <summary>The size of the first decoded batch: a quarter of <paramref name="batch"/> (at least one).</summary>
    internal static int FirstBatchSize(int batch) => Math.Max(1, batch / 4);

    /// <summary>One forward pass over a chunk's decoded images; the failed ones become error results at their place.</summary>
    void EmbedPrepared(PreprocessedBatch prepared, int start, EmbeddingResult[] results, bool normalize)
    {
        for (int i = 0; i < prepared.Count; i++)
            if (prepared.Error(i) is { } error)
                results[start + i] = new EmbeddingResult(start + i, prepared.Sources[i], null, error.Message);
        var ok = prepared.Succeeded();
        if (ok.Count == 0) return;
        using var pixels = prepared.Pixels();                  // [images, 3, H, W]
        using var embedded = ForwardImages(pixels, normalize); // [images, dim]
        var flat = embedded.data<float>().ToArray();
        int dim = EmbeddingDimension;
        for (int i = 0; i < ok.Count; i++)
            results[start + ok[i]] = new EmbeddingResult(start + ok[i], prepared.Sources[ok[i]], flat.AsSpan(i * dim, dim).ToArray(), null);
    }

    /// <summary>
    /// Told of every forward pass this pipeline makes ("image" or "text", and the batch size): the seam tests use to
    /// prove that N inputs cost one pass, not N, without timing anything.
    /// </summary>
    internal Action<string, int>? ForwardObserver { get; set; }

    Tensor ForwardImages(Tensor pixels, bool normalize)
    {
        ForwardObserver?.Invoke("image", (int)pixels.shape[0]);
        return Encoder.EmbedImages(pixels, normalize);
    }

    Tensor ForwardTexts(Tensor ids, bool normalize)
    {
        ForwardObserver?.Invoke("text", (int)ids.shape[0]);
        return Encoder.EmbedTexts(ids, normalize);
    }

    /// <summary>One decoded image's embedding (an uploaded query image, say).</summary>
    public float[] EmbedImage(byte[] encoded, string name, bool normalize = true)
    {
        var pixels = Processor.Process(encoded, name);
        using var batch = Processor.ToBatchTensor([pixels]);
        using var e = ForwardImages(batch, normalize);
        return e.data<float>().ToArray();
    }

    /// <summary>
    /// Zero-shot classifier over <paramref name="classNames"/>, each class's prompts the templates filled with its name.
    /// </summary>
    public ZeroShotClassifier BuildClassifier(IReadOnlyList<string> classNames, PromptTemplates templates, CancellationToken cancellationToken = default) =>
        BuildClassifier(ClassPrompts.FromTemplates(classNames, templates), cancellationToken: cancellationToken);

    /// <summary>
    /// Zero-shot classifier from each class's prompts (<see cref="ClassifierBuilder"/>: embedded, normalised, averaged
    /// and renormalised), read from and written to <paramref name="cacheDirectory"/> when one is given
    /// (<see cref="ClassifierCache"/>). <c>classify</c> and the evaluations both come here, so they get the same weights.
    /// </summary>
    /// <param name="prompts">Class names and each class's prompts.</param>
    /// <param name="cacheDirectory">Folder of cached weights; null builds without a cache.</param>
    /// <param name="progress">Receives the number of prompts embedded so far.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public ZeroShotClassifier BuildClassifier(ClassPrompts prompts, string? cacheDirectory = null, IProgress<int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ZeroShotClassifier Build() => ClassifierBuilder.Build(Encoder, Tokenizer, prompts, Options.BatchSize, progress, cancellationToken);
        return cacheDirectory is null ? Build() : ClassifierCache.GetOrBuild(cacheDirectory, Fingerprint, Source, prompts, EmbeddingDimension, Build);
    }

    /// <summary>Logits as the reference's forward gives them: exp(logit_scale)·cos, [images, texts].</summary>
    public Tensor Logits(Tensor imageEmbeddings, Tensor textEmbeddings)
    {
        using var _ = torch.inference_mode();
        using var scope = torch.NewDisposeScope();
        var scale = Model.LogitScale.detach().to(ScalarType.Float32, CPU).exp();
        var image = Embeddings.L2Normalize(imageEmbeddings.to(ScalarType.Float32, CPU));
        var text = Embeddings.L2Normalize(textEmbeddings.to(ScalarType.Float32, CPU));
        return (scale * image.matmul(text.t())).MoveToOuterDisposeScope();
    }

    string ComputeFingerprint()
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(Config)));
        sha.AppendData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(Preprocessing.Summary())));
        // int8 embeddings differ from float32 ones by more than rounding (and with the CPU's weight range): an index must
        // not mix them.
        if (Options.Precision == Precision.Int8)
            sha.AppendData(Encoding.UTF8.GetBytes($"int8 linear layers, weights ±{Int8Weights.LimitOnThisCpu}" +
                (Encoder is OnnxClipEncoder { Options.Calibration: { } ranges } ? $"; int8 convolutions, ranges {ranges.Fingerprint}" : "")));
        foreach (var (name, tensor) in Model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(name));
            using var scope = torch.NewDisposeScope(); // detach/to/contiguous each make a handle
            sha.AppendData(tensor.detach().to(ScalarType.Float32, CPU).contiguous().bytes);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    static (IClipEncoder, string) SelectEngine(ClipModel model, ClipImageProcessor processor, ClipPipelineOptions options)
    {
        var engine = options.Engine;
        if (options.Precision == Precision.Int8) return SelectInt8(model, processor, engine, options.Int8CalibrationFolder);
        bool onnx = OnnxClipEncoder.CanRun(model, out var why);
        bool managed = ManagedClipEncoder.CanRun(model, out var whyNotManaged);
        return engine switch
        {
            InferenceEngine.Torch => (model, "torch (asked for)"),
            InferenceEngine.Onnx when onnx => (OnnxClipEncoder.For(model), "onnx (asked for)"),
            InferenceEngine.Onnx => throw new ArgumentException($"engine onnx: {why}; use engine torch or auto"),
            InferenceEngine.Managed when managed => (ManagedClipEncoder.For(model), "managed (asked for)"),
            InferenceEngine.Managed => throw new ArgumentException($"engine managed: {whyNotManaged}; use engine onnx, torch or auto"),
            _ when managed && ManagedIsFaster(model) => (ManagedClipEncoder.For(model),
                $"managed (auto: float32 on an {(MatrixKernel.Width == KernelWidth.Avx512 ? "AVX-512" : "AVX2")} CPU)"),
            _ when onnx => (OnnxClipEncoder.For(model), managed
                ? "onnx (auto: a Vision Transformer on a CPU without AVX-512, where ONNX Runtime embeds folders faster)"
                : $"onnx (auto: float32 on the CPU; not managed: {whyNotManaged})"),
            _ => (model, $"torch (auto: {why})"),
        };
    }

    /// <summary>
    /// Where the managed engine is the faster choice for a float32 model it can run. With AVX-512: ViTs and ResNets alike
    /// (RN50 1.17-1.30x the onnx engine at batch 8, 1.02-1.16x at batch 1 over the runs of 7 December; ViT-B/32 ahead
    /// on every row; bench … engines). With AVX2 only (AVX-512 hidden with bench/hide-avx512/run, 7 December): ResNets
    /// (RN50 1.07-1.29x, beside a busy process 1.24-1.40x), not ViTs: ViT-B/32 was level model-only (0.82-1.09x: both
    /// engines' products run at the AVX2 FMA peak) but `embed` of 200 files ran 16.6-17.7 images/s against ONNX
    /// Runtime's 19.9-21.0 (bench … embed), the managed engine's fixed split of each product between the threads
    /// suffering more from the decoding threads beside it.
    /// </summary>
    static bool ManagedIsFaster(ClipModel model) => MatrixKernel.Width == KernelWidth.Avx512 || !model.Config.IsVisionTransformer;

    /// <summary>int8 exists only as the ONNX engine's quantized graph: engine onnx or auto run it, engines torch and
    /// managed are refused rather than silently computing float32.</summary>
    static (IClipEncoder, string) SelectInt8(ClipModel model, ClipImageProcessor processor, InferenceEngine engine, string? calibrationFolder)
    {
        if (engine == InferenceEngine.Managed)
            throw new ArgumentException("precision int8 runs on the onnx engine only (the managed engine computes float32); use engine onnx or auto, or precision fp32 with engine managed");
        if (engine == InferenceEngine.Torch)
            throw new ArgumentException("precision int8 runs on the onnx engine only (libtorch has no int8 path here); use engine onnx or auto, or precision fp32/bf16 with engine torch");
        if (!OnnxClipEncoder.CanRun(model, out var why)) throw new ArgumentException($"precision int8: {why}");
        // A named folder that is not there is a typo, whatever the tower: said, not ignored.
        if (calibrationFolder is not null && !Directory.Exists(calibrationFolder))
            throw new DirectoryNotFoundException($"calibration folder {calibrationFolder}: not found");
        // A ViT's int8 layers quantize per call; a ResNet's convolutions need ranges measured on images first.
        var ranges = calibrationFolder is null || model.Config.IsVisionTransformer ? null : ActivationRanges.MeasureFolder(model, processor, calibrationFolder);
        var encoder = OnnxClipEncoder.For(model, new OnnxEngineOptions { Quantization = OnnxQuantization.DynamicInt8, Calibration = ranges });
        string what = ranges is not null ? $"int8 linear layers and convolutions (ranges from {ranges.Images} images)"
            : model.Config.IsVisionTransformer ? "int8 linear layers, float32 elsewhere" + (calibrationFolder is null ? "" : "; a ViT needs no calibration folder, not used")
            : "int8 linear layers, float32 convolutions: give a calibration folder for int8 ones";
        return (encoder, $"onnx int8 ({(engine == InferenceEngine.Auto ? "auto" : "asked for")}: {what})");
    }

    public void Dispose()
    {
        if (Encoder is IDisposable engine && !ReferenceEquals(Encoder, Model)) engine.Dispose();
        Model.Dispose();
    }
}
