using SharpClip.Checkpoints;
using SharpClip.Data.Loading;
using SharpClip.Modeling;
using SharpClip.Vision;
using TorchSharp;

namespace SharpClip.Training;

/// <summary>
/// One training run in progress: what <see cref="TrainingSetup"/> built (model, objective, step, optimizer, loader,
/// evaluation, metrics log) and where the run is. <see cref="Trainer.Run"/> drives it batch by batch; it owns and
/// disposes every native resource of the run.
/// </summary>
internal sealed class TrainingSession : IDisposable
{
    readonly TrainingConfig _config;
    readonly IProgress<TrainingEvent>? _progress;
    readonly string _checkpoints;
    readonly RunCursor _cursor = new();
    long _savedStep = -1;

    internal TrainingSession(TrainingConfig config, IProgress<TrainingEvent>? progress)
    {
        _config = config;
        _progress = progress;
        Output = Path.GetFullPath(config.Output);
        _checkpoints = Path.Combine(Output, Trainer.CheckpointsFolderName);
    }

    // Set up by TrainingSetup, in this order; Dispose frees them in reverse.
    public ClipModel Model { get; internal set; } = null!;
    public ContrastiveObjective Objective { get; internal set; } = null!;
    public ContrastiveStep Step { get; internal set; } = null!;
    public AdamWOptimizer Optimizer { get; internal set; } = null!;
    public ClipDataLoader Loader { get; internal set; } = null!;
    public ITrainingEvaluation? Evaluator { get; internal set; }
    public MetricsLog Metrics { get; internal set; } = null!;

    // What a checkpoint writes besides the weights: the model folder's architecture, vocabulary and preprocessing.
    internal ClipConfig Architecture { get; set; } = null!;
    internal string VocabPath { get; set; } = null!;
    internal string? MergesPath { get; set; }
    internal PreprocessingInfo Preprocessing { get; set; } = null!;

    public string Output { get; }
    public string CheckpointsDirectory => _checkpoints;
    public TrainingPosition Position { get => _cursor.Position; internal set => _cursor.Position = value; }
    public long TotalSteps { get => _cursor.TotalSteps; internal set => _cursor.TotalSteps = value; }
    public string? LastCheckpoint { get; internal set; }
    public IReadOnlyDictionary<string, double>? LastEvaluation { get; private set; }

    /// <summary>Whether the newest checkpoint holds the current step (then the end of the run need not save again).</summary>
    public bool SavedCurrentStep => _savedStep == Position.Step;

    internal void MarkSaved(long step) => _savedStep = step;

    public void Info(string text) => _progress?.Report(new TrainingMessage(text));

    public void Warn(string text) => _progress?.Report(new TrainingMessage(text, IsWarning: true));

    /// <summary>The batches still to train on, from the current position across epochs to the last step.</summary>
    public IEnumerable<ClipBatch> Batches(CancellationToken cancellationToken) => _cursor.Batches(Loader, "pairs", cancellationToken);

    /// <summary>One optimizer step on <paramref name="batch"/>: exact forward/backward, clip, AdamW, clamp the temperature.</summary>
    public StepMetrics TrainOn(ClipBatch batch, CancellationToken cancellationToken)
    {
        double lr = LearningRateSchedule.WarmupCosine(Position.Step, TotalSteps, _config.WarmupSteps, _config.LearningRate, _config.MinLearningRate);
        int resolution = Architecture.ImageResolution;
        float loss;
        double? gradNorm = null;
        using (var scope = torch.NewDisposeScope())
        {
            var pixels = torch.tensor(batch.Pixels, [batch.Count, 3, resolution, resolution]);   // [batch, 3, r, r]
            var ids = torch.tensor(batch.TokenIds, [batch.Count, batch.ContextLength]);           // [batch, context]
            Optimizer.ZeroGrad();
            loss = Step.Run(pixels, ids, cancellationToken);   // forward + backward, exact over the whole batch
            if (_config.MaxGradNorm is { } maxNorm) gradNorm = torch.nn.utils.clip_grad_norm_(Optimizer.Parameters, maxNorm);
            Optimizer.Step(lr);
            ContrastiveObjective.ClampLogitScale(Model.LogitScale);
        }
        var pace = _cursor.Advance(batch.Count);
        return new StepMetrics(Position.Step, TotalSteps, Position.Epoch, loss, lr, Math.Exp(Model.LogitScale.item<float>()), gradNorm,
            pace.SamplesPerSecond, pace.Elapsed, pace.Remaining);
    }

    /// <summary>Appends the step to metrics.jsonl and reports it: one record for both.</summary>
    public void Log(StepMetrics step)
    {
        Metrics.Append(step.ToJson());
        _progress?.Report(new StepFinished(step));
    }

    /// <summary>Whether a periodic action due every <paramref name="every"/> steps (0 = never) falls on this step, before the last.</summary>
    public bool Due(int every) => every > 0 && Position.Step % every == 0 && Position.Step < TotalSteps;

    /// <summary>Runs the evaluation (when the run has one), logs it to metrics.jsonl and reports it.</summary>
    public void Evaluate(CancellationToken cancellationToken)
    {
        if (Evaluator is null) return;
        var finished = new EvaluationFinished(Position.Step, Position.Epoch, Evaluator.Evaluate(Model, cancellationToken));
        LastEvaluation = finished.Metrics;
        Metrics.Append(finished.ToJson());
        _progress?.Report(finished);
    }

    /// <summary>Writes a training checkpoint of the current step and updates the model folder.</summary>
    public void SaveCheckpoint()
    {
        using var scope = torch.NewDisposeScope();
        var weights = Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach());
        var state = Optimizer.StateDict();
        foreach (var (name, p) in Objective.Parameters) state["objective." + name] = p.detach().clone();
        LastCheckpoint = TrainingCheckpoint.Save(_checkpoints, Position, weights, state, _config.ToJsonNode(), _config.KeepCheckpoints);
        ClipModelFolder.Write(Output, Architecture, weights, VocabPath, Preprocessing, MergesPath, overwrite: true);
        foreach (var t in state.Values) t.Dispose();
        _savedStep = Position.Step;
        _progress?.Report(new CheckpointSaved(Position.Step, LastCheckpoint));
    }

    /// <summary>Reports what the loader read and skipped (a warning when samples were skipped).</summary>
    public void ReportData()
    {
        var stats = Loader.Stats;
        if (stats.TotalSkipped > 0) Warn($"data: {stats}; e.g. {string.Join("; ", stats.Examples.Take(3))}");
        else Info($"data: {stats}");
    }

    public void Dispose()
    {
        Evaluator?.Dispose();
        Metrics?.Dispose();
        Optimizer?.Dispose();
        Step?.Dispose();
        Objective?.Dispose();
        Model?.Dispose();
    }
}
