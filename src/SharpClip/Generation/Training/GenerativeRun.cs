using System.Text.Json.Nodes;
using SharpClip.Data;
using SharpClip.Data.Loading;
using SharpClip.Training;
using SharpClip.Vision;
using static TorchSharp.torch;

namespace SharpClip.Generation.Training;

/// <summary>
/// The run-folder bookkeeping the generative trainers share (dVAE, DALL-E, the latent diffusion autoencoder and U-Net), on the CLIP trainer's machinery: where to start
/// (<see cref="TrainingCheckpoint"/>: the newest intact checkpoint, or step 0), the batches and step timing
/// (<see cref="RunCursor"/>, as the CLIP trainer walks them), <see cref="MetricsLog"/>, and atomic checkpoints.
/// </summary>
internal sealed class GenerativeRun : IDisposable
{
    readonly IProgress<TrainingEvent>? _progress;
    readonly RunCursor _cursor = new();
    long _savedStep = -1;

    public GenerativeRun(string output, bool resume, JsonNode config, IProgress<TrainingEvent>? progress)
    {
        _progress = progress;
        Output = Path.GetFullPath(output);
        CheckpointsDirectory = Path.Combine(Output, "checkpoints");
        Config = config;
        Directory.CreateDirectory(Output);
        if (!resume && TrainingCheckpoint.List(CheckpointsDirectory).Count > 0)
            throw new IOException($"{Output} already holds a run ({CheckpointsDirectory}); resume it (--resume) or choose another output folder");
        Resumed = resume ? TrainingCheckpoint.LoadLatest(CheckpointsDirectory, Warn) : null;
        if (resume && Resumed is null) Info($"no checkpoint in {CheckpointsDirectory}; starting from step 0");
        _cursor.Position = Resumed?.Position ?? TrainingPosition.Start;
        if (Resumed is not null) _savedStep = Position.Step;
    }

    public string Output { get; }
    public string CheckpointsDirectory { get; }
    public JsonNode Config { get; }
    public TrainingPosition Position => _cursor.Position;
    public long TotalSteps { get => _cursor.TotalSteps; set => _cursor.TotalSteps = value; }

    /// <summary>The checkpoint resumed from (null for a fresh run); dispose with <see cref="ReleaseResumed"/> once copied.</summary>
    public TrainingCheckpoint? Resumed { get; private set; }
    public MetricsLog Metrics { get; private set; } = null!;
    public ClipDataLoader Loader { get; private set; } = null!;
    public bool SavedCurrentStep => _savedStep == Position.Step;

    public void ReleaseResumed()
    {
        Resumed?.Dispose();
        Resumed = null;
    }

    public void Info(string text) => _progress?.Report(new TrainingMessage(text));
    public void Warn(string text) => _progress?.Report(new TrainingMessage(text, IsWarning: true));

    /// <summary>Opens the data: images resized and centre-cropped to <paramref name="imageSize"/>, as [0, 1] floats (CHW).</summary>
    public void OpenData(string spec, DataSourceOptions? options, int imageSize, int batchSize, int seed, int? workers, CaptionTokenizer captions) =>
        OpenData(spec, options, imageSize, UnitPixelPipeline(imageSize), batchSize, seed, workers, captions);

    /// <summary>Opens the data with the caller's image pipeline, which returns <c>3 · imageSize²</c> floats per sample
    /// (or null to skip it). The batches' order, captions and skips are those of every other pipeline's.</summary>
    public void OpenData(string spec, DataSourceOptions? options, int imageSize, ImagePipeline images, int batchSize, int seed, int? workers, CaptionTokenizer captions)
    {
        var source = ImageTextSources.Open(spec, options);
        Loader = new ClipDataLoader(source, images, captions,
            new ClipLoaderOptions { BatchSize = batchSize, ImageSize = imageSize, Seed = seed, Workers = workers ?? Math.Max(1, Environment.ProcessorCount) });
    }

    /// <summary>The generative trainers' image pipeline: decode, resize and centre-crop to <paramref name="imageSize"/>
    /// (no random augmentation: a sample's pixels are the same in every epoch), CHW floats in [0, 1].</summary>
    public static ImagePipeline UnitPixelPipeline(int imageSize)
    {
        var processor = new ClipImageProcessor(PreprocessingInfo.ForResolution(imageSize));
        return (sample, _) => UnitPixels(processor.ResizeAndCrop(TrainingInputs.Decode(sample.Image)));
    }

    /// <summary>An 8-bit image as CHW floats in [0, 1] (byte / 255, torchvision's ToTensor).</summary>
    public static float[] UnitPixels(RgbImage image)
    {
        int plane = image.Width * image.Height;
        var chw = new float[3 * plane];
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < 3; c++)
                chw[c * plane + p] = image.Pixels[p * 3 + c] / 255f;
        return chw;
    }

    /// <summary>Writes the resolved config and opens metrics.jsonl (kept up to the resumed step).</summary>
    public void Begin(string configFileName)
    {
        File.WriteAllText(Path.Combine(Output, configFileName), Config.ToJsonString(GenerativeConfigJson.Options) + "\n");
        Metrics = MetricsLog.Open(Output, Resumed is not null || Position.Step > 0 ? Position.Step : null);
    }

    /// <summary>The batches from the current position to the last step, across epochs.</summary>
    public IEnumerable<ClipBatch> Batches(CancellationToken cancellationToken) => _cursor.Batches(Loader, "images", cancellationToken);

    /// <summary>Advances the position past <paramref name="batch"/>, times the step, logs and reports it.</summary>
    public GenerativeStepMetrics Finish(ClipBatch batch, double loss, double learningRate, IReadOnlyList<(string, double)> values)
    {
        var pace = _cursor.Advance(batch.Count);
        var metrics = new GenerativeStepMetrics(Position.Step, TotalSteps, loss, learningRate, values, pace.SamplesPerSecond, pace.Elapsed, pace.Remaining);
        Metrics.Append(metrics.ToJson());
        _progress?.Report(new GenerativeStepFinished(metrics));
        return metrics;
    }

    /// <summary>What one training step reports: its loss, the rate it used and its other gauges, in order.</summary>
    public readonly record struct StepReport(double Loss, double LearningRate, IReadOnlyList<(string, double)> Values);

    /// <summary>
    /// The loop every generative trainer runs once set up: each batch from the current position through
    /// <paramref name="step"/>, then logged and reported; <paramref name="save"/> every <paramref name="saveEvery"/>
    /// steps; on cancellation the loop stops after the step in progress; finally the last step is saved unless it just was.
    /// </summary>
    public GenerativeTrainingResult Train(Func<ClipBatch, StepReport> step, Action save, int saveEvery, CancellationToken cancellationToken)
    {
        var losses = new List<(long, double)>();
        GenerativeStepMetrics? last = null;
        bool interrupted = false;
        try
        {
            foreach (var batch in Batches(cancellationToken))
            {
                var report = step(batch);
                last = Finish(batch, report.Loss, report.LearningRate, report.Values);
                losses.Add((last.Step, report.Loss));
                if (Due(saveEvery)) save();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            interrupted = true;
            Info($"interrupted after step {Position.Step}; saving");
        }
        if (!SavedCurrentStep) save();
        return new GenerativeTrainingResult(Output, Position.Step, TotalSteps, interrupted, losses, last);
    }

    public bool Due(int every) => every > 0 && Position.Step % every == 0 && Position.Step < TotalSteps;

    /// <summary>Saves a checkpoint of the current step (the tensors are the caller's) and reports it.</summary>
    public void SaveCheckpoint(IReadOnlyDictionary<string, Tensor> model, IReadOnlyDictionary<string, Tensor> state, int keep)
    {
        var dir = TrainingCheckpoint.Save(CheckpointsDirectory, Position, model, state, Config, keep);
        _savedStep = Position.Step;
        _progress?.Report(new CheckpointSaved(Position.Step, dir));
    }

    /// <summary>
    /// The seed of step <paramref name="step"/>'s random draws (gumbel noise, posterior samples, timesteps, caption
    /// dropout): a function of (seed, step) alone, so a resumed run draws exactly what the uninterrupted one drew.
    /// </summary>
    public static ulong StepSeed(int seed, long step) => unchecked((ulong)seed * 0x9E37_79B9_7F4A_7C15UL + (ulong)step * 0xBF58_476D_1CE4_E5B9UL + 1);

    /// <summary>A tensor the resumed checkpoint must hold; a clear error naming the checkpoint and key otherwise.</summary>
    public static Tensor Require(IReadOnlyDictionary<string, Tensor> state, string key, TrainingCheckpoint checkpoint) =>
        state.TryGetValue(key, out var t) ? t : throw new InvalidDataException($"{checkpoint.Directory}: no '{key}' in the checkpoint (was it written by another kind of run?)");

    public void Dispose()
    {
        Metrics?.Dispose();
        Resumed?.Dispose();
    }
}
