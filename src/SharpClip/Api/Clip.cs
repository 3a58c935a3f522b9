using Microsoft.Extensions.AI;
using SharpClip.Pipelines;
using SharpClip.Scoring;
using SharpClip.Search;
using SharpClip.ZeroShot;
using TorchSharp;

namespace SharpClip;

/// <summary>
/// CLIP in a few lines, with no tensor in sight: load a checkpoint, embed images and texts to plain
/// <c>float[]</c>, classify images zero-shot into any labels, compare and rerank. It is the front door for
/// applications; everything it does goes through <see cref="Pipeline"/> (the same code the CLI, the web app and
/// the evaluations run), which stays public for those who want tensors, per-token states or batching control.
/// </summary>
/// <remarks>
/// Thread-safe: model calls are serialised (libtorch already spreads one batch over every core, so running two at
/// once only makes both slower). Embeddings are float32 and L2-normalised, so a dot product is a cosine.
/// The <c>…Async</c> methods read files asynchronously where they can and run the model off the caller's thread;
/// their token is checked between batches. Owns the model's native memory: dispose it.
/// </remarks>
public sealed class Clip : IDisposable
{
    readonly object _gate = new();
    readonly ClipImageTextEncoder _encoder;
    (string Key, ZeroShotClassifier Classifier)? _lastClassifier;
    bool _disposed;

    Clip(ClipPipeline pipeline)
    {
        Pipeline = pipeline;
        _encoder = new ClipImageTextEncoder(pipeline, _gate, ownsPipeline: false);
    }

    /// <summary>
    /// Loads a model folder (SharpClip, Hugging Face or open_clip) or a weight file (<c>.safetensors</c>, <c>.pt</c>,
    /// <c>.bin</c>; a bare file needs <see cref="ClipPipelineOptions.VocabPath"/> to embed texts). Bad files are refused
    /// with one message naming the file and the key at fault.
    /// </summary>
    /// <param name="modelPath">The model folder or weight file.</param>
    /// <param name="options">Device, precision, batch size, vocabulary; defaults give the reference's float32 numbers on the CPU.</param>
    public static Clip Load(string modelPath, ClipPipelineOptions? options = null) => new(ClipPipeline.Load(modelPath, options));

    /// <summary><see cref="Load"/> off the caller's thread (reading a large checkpoint takes seconds).</summary>
    public static Task<Clip> LoadAsync(string modelPath, ClipPipelineOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Load(modelPath, options), cancellationToken);

    /// <summary>The loaded model, tokenizer and preprocessing, for tensor-level work (<c>EmbedTexts</c> as a tensor, <c>Logits</c>, hidden states).</summary>
    public ClipPipeline Pipeline { get; }

    /// <summary>Length of every embedding (the model's <c>embed_dim</c>).</summary>
    public int Dimension => Pipeline.EmbeddingDimension;

    /// <summary>Identifies weights + config + preprocessing; equal fingerprints give equal embeddings.</summary>
    public string Fingerprint => Pipeline.Fingerprint;

    // ------------------------------------------------------------------ texts

    /// <summary>One text's embedding (truncated to the model's context, 77 tokens for OpenAI's models).</summary>
    public float[] EmbedText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return EmbedTexts([text])[0];
    }

    /// <summary>Many texts' embeddings in input order, in forward passes of <see cref="ClipPipelineOptions.BatchSize"/> texts.</summary>
    public float[][] EmbedTexts(IEnumerable<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return [.. Model(() => _encoder.EmbedTexts(texts.ToList(), cancellationToken))];
    }

    // ------------------------------------------------------------------ images

    /// <summary>One image file's embedding; a file that cannot be read or decoded throws an <see cref="IOException"/> whose message starts with its path.</summary>
    public float[] EmbedImage(string path) => EmbedImage(ReadImage(path), path);

    /// <summary>One encoded image's embedding (an upload, a database BLOB); <paramref name="name"/> names it in errors.</summary>
    public float[] EmbedImage(byte[] encoded, string name = "image")
    {
        ArgumentNullException.ThrowIfNull(encoded);
        return Model(() => Pipeline.EmbedImage(encoded, name));
    }

    /// <summary>As <see cref="EmbedImage(string)"/>, reading the file asynchronously and running the model off the caller's thread.</summary>
    public async Task<float[]> EmbedImageAsync(string path, CancellationToken cancellationToken = default)
    {
        var bytes = await ReadImageAsync(path, cancellationToken).ConfigureAwait(false);
        return await Task.Run(() => EmbedImage(bytes, path), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Image files' embeddings in input order, decoded in parallel and embedded in batches. A file that cannot be read
    /// is not fatal: its result has <see cref="EmbeddingResult.Error"/> (starting with the path) and no vector.
    /// </summary>
    public IReadOnlyList<EmbeddingResult> EmbedImages(IEnumerable<string> paths, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var list = paths.ToList();
        return Model(() => Pipeline.EmbedImages(list, normalize: true, progress: null, cancellationToken));
    }

    /// <summary>As <see cref="EmbedImages"/>, off the caller's thread.</summary>
    public Task<IReadOnlyList<EmbeddingResult>> EmbedImagesAsync(IEnumerable<string> paths, CancellationToken cancellationToken = default)
    {
        var list = paths.ToList();
        return Task.Run(() => EmbedImages(list, cancellationToken), cancellationToken);
    }

    // ------------------------------------------------------------------ zero-shot, similarity, reranking

    /// <summary>
    /// Zero-shot classification: each label is put in every template ("a photo of a {}." when none are given), the
    /// prompts of a label are embedded and averaged (the CLIP paper's prompt ensembling), and each image gets the
    /// <paramref name="topK"/> most probable labels. Results are in input order; an unreadable file gets a result with
    /// <see cref="ImageClassification.Error"/> set and the others go on.
    /// </summary>
    /// <param name="images">Image files.</param>
    /// <param name="labels">Class names, e.g. <c>["cat", "dog"]</c>.</param>
    /// <param name="templates">Prompt templates with <c>{}</c> where the label goes; the paper's 80 ImageNet ones are
    /// <c>PromptTemplates.Resolve("imagenet")!.Templates</c>.</param>
    /// <param name="topK">Labels kept per image, clamped to 1..labels.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public IReadOnlyList<ImageClassification> Classify(IEnumerable<string> images, IEnumerable<string> labels, IEnumerable<string>? templates = null,
        int topK = 5, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        var files = images.ToList();
        var (classes, prompts) = CheckLabels(labels, templates);
        int k = Math.Clamp(topK, 1, classes.Count);
        return Model(() =>
        {
            var classifier = ClassifierFor(classes, prompts, cancellationToken);
            var embedded = Pipeline.EmbedImages(files, normalize: true, progress: null, cancellationToken);
            var good = embedded.Where(r => r.Succeeded).ToList();
            var probabilities = new float[good.Count * classes.Count];
            if (good.Count > 0)
            {
                using var features = torch.tensor(good.SelectMany(r => r.Vector!).ToArray(), [good.Count, Dimension]); // [images, dim]
                using var probs = classifier.Predict(features);                                                          // [images, classes]
                probabilities = probs.data<float>().ToArray();
            }
            var results = new ImageClassification[files.Count];
            foreach (var r in embedded.Where(r => !r.Succeeded)) results[r.Index] = new ImageClassification(r.Index, r.Source, [], r.Error);
            for (int i = 0; i < good.Count; i++)
            {
                var row = probabilities.AsSpan(i * classes.Count, classes.Count).ToArray();
                var top = Enumerable.Range(0, classes.Count).OrderByDescending(c => row[c]).ThenBy(c => c).Take(k)
                    .Select(c => new ClassProbability(classes[c], row[c])).ToList();
                results[good[i].Index] = new ImageClassification(good[i].Index, good[i].Source, top, null);
            }
            return (IReadOnlyList<ImageClassification>)results;
        });
    }

    /// <summary>One image file's <paramref name="topK"/> labels, most probable first; an unreadable file throws an <see cref="IOException"/> naming it.</summary>
    public IReadOnlyList<ClassProbability> Classify(string image, IEnumerable<string> labels, IEnumerable<string>? templates = null, int topK = 5)
    {
        var result = Classify([image], labels, templates, topK)[0];
        return result.Succeeded ? result.Top : throw new IOException(result.Error);
    }

    /// <summary>As <see cref="Classify(IEnumerable{string}, IEnumerable{string}, IEnumerable{string}?, int, CancellationToken)"/>, off the caller's thread.</summary>
    public Task<IReadOnlyList<ImageClassification>> ClassifyAsync(IEnumerable<string> images, IEnumerable<string> labels, IEnumerable<string>? templates = null,
        int topK = 5, CancellationToken cancellationToken = default)
    {
        var files = images.ToList();
        var classes = labels.ToList();
        var prompts = templates?.ToList();
        return Task.Run(() => Classify(files, classes, prompts, topK, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Cosine similarity of two embeddings (any two: image–text, text–text, image–image), in −1..1. CLIP's own logit
    /// is this times <c>exp(logit_scale)</c>, about 100 for trained models.
    /// </summary>
    public double Similarity(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"embedding lengths differ: {a.Length} and {b.Length}");
        return Reranker.Cosine(a, b);
    }

    /// <summary>
    /// Orders candidate image files by how well they match <paramref name="prompt"/>, best first (as DALL-E picks the
    /// best of many samples); unreadable files are listed in <see cref="RerankResult.Failed"/>, not ranked.
    /// </summary>
    public RerankResult Rerank(string prompt, IEnumerable<string> images, int? top = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        var files = images.ToList();
        return Model(() => Reranker.Rerank(Pipeline, prompt, files, top, progress: null, cancellationToken));
    }

    /// <summary>As <see cref="Rerank"/>, off the caller's thread.</summary>
    public Task<RerankResult> RerankAsync(string prompt, IEnumerable<string> images, int? top = null, CancellationToken cancellationToken = default)
    {
        var files = images.ToList();
        return Task.Run(() => Rerank(prompt, files, top, cancellationToken), cancellationToken);
    }

    // ------------------------------------------------------------------ Microsoft.Extensions.AI

    /// <summary>
    /// This model's text side as a Microsoft.Extensions.AI embedding generator (one forward pass per batch of inputs).
    /// It shares this object's model: dispose this object, not the generator, to free it.
    /// </summary>
    public IEmbeddingGenerator<string, Embedding<float>> AsTextEmbeddingGenerator() => new ClipTextEmbeddingGenerator(_encoder);

    /// <summary>
    /// This model's image side as a Microsoft.Extensions.AI embedding generator over <see cref="DataContent"/> with image
    /// bytes (decoded in parallel, one forward pass per batch). Shares this object's model.
    /// </summary>
    public IEmbeddingGenerator<DataContent, Embedding<float>> AsImageEmbeddingGenerator() => new ClipImageEmbeddingGenerator(_encoder);

    // ------------------------------------------------------------------ helpers

    T Model<T>(Func<T> run)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return run();
        }
    }

    static (List<string> Classes, PromptTemplates Templates) CheckLabels(IEnumerable<string> labels, IEnumerable<string>? templates)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var classes = labels.ToList();
        if (classes.Count == 0) throw new ArgumentException("no labels to classify into", nameof(labels));
        if (classes.FirstOrDefault(string.IsNullOrWhiteSpace) is not null) throw new ArgumentException("a label is empty", nameof(labels));
        var list = templates?.ToList();
        if (list is { Count: 0 }) throw new ArgumentException("no prompt templates (leave them out for \"a photo of a {}.\")", nameof(templates));
        if (list?.FirstOrDefault(t => !t.Contains("{}", StringComparison.Ordinal)) is { } bad)
            throw new ArgumentException($"template \"{bad}\" has no {{}} for the label", nameof(templates));
        return (classes, list is null ? PromptTemplates.PhotoOf : new PromptTemplates(list));
    }

    /// <summary>The classifier for these labels and templates; the last one is kept, so classifying batch after batch into the same labels embeds the prompts once.</summary>
    ZeroShotClassifier ClassifierFor(List<string> classes, PromptTemplates templates, CancellationToken cancellationToken)
    {
        string key = string.Join("\u0001", classes) + "\u0002" + string.Join("\u0001", templates.Templates);
        if (_lastClassifier is { } last && last.Key == key) return last.Classifier;
        var built = FileClassifier.BuildClassifier(Pipeline, classes, templates, cancellationToken);
        _lastClassifier?.Classifier.Dispose();
        _lastClassifier = (key, built);
        return built;
    }

    static byte[] ReadImage(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try { return File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Unreadable(path, e); }
    }

    static async Task<byte[]> ReadImageAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try { return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Unreadable(path, e); }
    }

    static IOException Unreadable(string path, Exception e) =>
        e is FileNotFoundException or DirectoryNotFoundException ? new FileNotFoundException($"{path}: no such file", path, e) : new IOException($"{path}: {e.Message}", e);

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _lastClassifier?.Classifier.Dispose();
            _lastClassifier = null;
            Pipeline.Dispose();
        }
    }
}
