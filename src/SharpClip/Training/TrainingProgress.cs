namespace SharpClip.Training;

/// <summary>What a <see cref="TrainingProgress"/> report is about.</summary>
public enum TrainingProgressKind
{
    /// <summary>Setup news (vocabulary learned, checkpoint restored, ...).</summary>
    Info,
    /// <summary>Something the user should know (a damaged checkpoint skipped, slow bf16, a changed config on resume).</summary>
    Warning,
    /// <summary>An optimizer step finished.</summary>
    Step,
    /// <summary>An evaluation finished; <see cref="TrainingProgress.Metrics"/> holds its results.</summary>
    Evaluation,
    /// <summary>A checkpoint and the model folder were written.</summary>
    Checkpoint,
}

/// <summary>
/// One report from <see cref="Trainer"/>. Reports are delivered synchronously on the training thread, in order, so a
/// handler may cancel the run at an exact step.
/// </summary>
public sealed record TrainingProgress
{
    public required TrainingProgressKind Kind { get; init; }
    public string? Message { get; init; }
    public long Step { get; init; }
    public long TotalSteps { get; init; }
    public int Epoch { get; init; }
    public double Loss { get; init; }
    public double LearningRate { get; init; }

    /// <summary>exp(logit_scale): the multiplier of the cosine similarities (1/temperature).</summary>
    public double LogitScale { get; init; }

    /// <summary>Global gradient norm before clipping (null without clipping).</summary>
    public double? GradNorm { get; init; }

    /// <summary>Training pairs per second over recent steps (evaluation and checkpoint time excluded).</summary>
    public double SamplesPerSecond { get; init; }

    public TimeSpan Elapsed { get; init; }

    /// <summary>Estimated time to the last step (training steps only).</summary>
    public TimeSpan? Remaining { get; init; }

    public IReadOnlyDictionary<string, double>? Metrics { get; init; }
}

/// <summary>What <see cref="Trainer.Run"/> returns.</summary>
/// <param name="OutputDirectory">The run folder; a SharpClip model folder with the latest weights.</param>
/// <param name="Position">Where the run stopped.</param>
/// <param name="TotalSteps">Steps the run is configured for.</param>
/// <param name="Interrupted">True when cancellation stopped it early (state saved; resume with <c>Resume</c>).</param>
/// <param name="Losses">Loss of every step this call ran, by step number (1-based: the loss of the step that made it).</param>
/// <param name="LastEvaluation">The last evaluation's metrics, if any ran.</param>
/// <param name="CheckpointDirectory">The newest checkpoint written.</param>
public sealed record TrainingResult(
    string OutputDirectory,
    TrainingPosition Position,
    long TotalSteps,
    bool Interrupted,
    IReadOnlyList<(long Step, float Loss)> Losses,
    IReadOnlyDictionary<string, double>? LastEvaluation,
    string? CheckpointDirectory);
