using System.Text.Json.Nodes;
using SharpClip.Generation.TextToImage;
using SharpClip.Pipelines;

namespace SharpClip.Web;

/// <summary>What a finished generate job left: the kept images (best first when reranked), the record
/// <c>generate</c> writes (every parameter, seeds, scores), the contact sheet when reranked, and the folder holding them.</summary>
public sealed record GenerationOutcome(TextToImageRunResult Run, JsonNode Record, string Folder);

/// <summary>
/// The generate page's back end: one model opened as <c>sharpclip generate</c> opens it
/// (<see cref="TextToImageGenerators.Open"/>), an optional CLIP reranker, and a <see cref="JobQueue"/> whose jobs are
/// <see cref="TextToImageRun.Run"/> into a folder of their own under a temporary directory — the same PNGs and
/// <c>generation.json</c> the verb writes, so the page and the CLI give the same bytes for the same request.
/// </summary>
public sealed class GenerationService : IDisposable
{
    readonly RerankSettings? _rerank;

    GenerationService(GenerateWebOptions options, ITextToImageGenerator generator, ClipPipeline? reranker)
    {
        Options = options;
        Generator = generator;
        Reranker = reranker;
        if (reranker is not null) _rerank = new RerankSettings(reranker, options.RerankModelPath!, 1);
        Root = Directory.CreateTempSubdirectory("sharpclip-serve-generate-").FullName;
        Queue = new JobQueue(options.MaxWaiting, options.KeepFinished, job =>
        {
            if (Directory.Exists(FolderOf(job))) Directory.Delete(FolderOf(job), recursive: true);
        });
    }

    public GenerateWebOptions Options { get; }

    public ITextToImageGenerator Generator { get; }

    /// <summary>The CLIP model that ranks images against the prompt, when the server was given one.</summary>
    public ClipPipeline? Reranker { get; }

    public JobQueue Queue { get; }

    /// <summary>The temporary folder the jobs write into; deleted on <see cref="Dispose"/>.</summary>
    public string Root { get; }

    /// <summary>Opens the model and the reranker now, so a bad path fails the server's start with one clear error.</summary>
    public static GenerationService Open(GenerateWebOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var generator = TextToImageGenerators.Open(options.ModelPath, new TextToImageLoadOptions { VocabPath = options.VocabPath, Prediction = options.Prediction, Precision = options.Precision });
        ClipPipeline? reranker = null;
        try
        {
            if (options.RerankModelPath is { } clip) reranker = ClipPipeline.Load(clip, new ClipPipelineOptions { VocabPath = options.VocabPath });
            return new GenerationService(options, generator, reranker);
        }
        catch
        {
            reranker?.Dispose();
            generator.Dispose();
            throw;
        }
    }

    /// <summary>Queues a checked request; null when the line is full.</summary>
    public Job? Submit(GenerateOrder order)
    {
        var rerank = order.Keep is { } keep && _rerank is not null ? _rerank with { Keep = keep } : null;
        return Queue.TryEnqueue(order.ProgressTotal, (job, cancel) =>
        {
            var folder = FolderOf(job);
            var run = TextToImageRun.Run(Generator, order.Request, folder, rerank: rerank, progress: job, cancellationToken: cancel);
            return new GenerationOutcome(run, JsonNode.Parse(File.ReadAllText(run.RecordPath))!, folder);
        });
    }

    string FolderOf(Job job) => Path.Combine(Root, job.Id);

    public void Dispose()
    {
        Queue.Dispose();
        Generator.Dispose();
        Reranker?.Dispose();
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}
