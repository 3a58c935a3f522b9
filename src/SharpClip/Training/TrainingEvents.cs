using System.Text.Json.Nodes;

namespace SharpClip.Training;

/// <summary>
/// One report from <see cref="Trainer.Run"/>: a message, a finished step, a finished evaluation or a saved checkpoint.
/// Reports are delivered synchronously on the training thread, in order, so a handler may cancel the run at an exact
/// step. A handler switches on the type (<c>case StepFinished s:</c>) and reads only the fields that event has.
/// </summary>
public abstract record TrainingEvent;

/// <summary>Setup news (vocabulary learned, run planned, data statistics) or, with <see cref="IsWarning"/>, something
/// the user should know (a damaged checkpoint skipped, slow bf16, a changed config on resume, skipped samples).</summary>
public sealed record TrainingMessage(string Text, bool IsWarning = false) : TrainingEvent;

/// <summary>An optimizer step finished; its metrics are also the step's line in <c>metrics.jsonl</c>.</summary>
public sealed record StepFinished(StepMetrics Metrics) : TrainingEvent;

/// <summary>An evaluation finished (every <c>eval_every</c> steps and at the end).</summary>
/// <param name="Step">Steps taken when the model was evaluated.</param>
/// <param name="Epoch">The epoch being read then.</param>
/// <param name="Metrics">Metric name → value, in the evaluation's order (e.g. <c>retrieval/image_to_text_r1</c>).</param>
public sealed record EvaluationFinished(long Step, int Epoch, IReadOnlyDictionary<string, double> Metrics) : TrainingEvent
{
    /// <summary>The evaluation's line in <c>metrics.jsonl</c>: <c>{"step", "epoch", "eval": {name: value, ...}}</c>.</summary>
    public JsonObject ToJson()
    {
        var values = new JsonObject();
        foreach (var (name, value) in Metrics) values[name] = value;
        return new JsonObject { ["step"] = Step, ["epoch"] = Epoch, ["eval"] = values };
    }
}

/// <summary>A checkpoint (and the model folder next to it) was written.</summary>
/// <param name="Step">The step the checkpoint holds.</param>
/// <param name="Directory">The checkpoint's folder (<c>checkpoints/step-NNNNNNNN</c>).</param>
public sealed record CheckpointSaved(long Step, string Directory) : TrainingEvent;

/// <summary>
/// What one optimizer step measured. The fields are listed once: the trainer appends <see cref="ToJson"/> to
/// <c>metrics.jsonl</c> and reports the same record in <see cref="StepFinished"/>.
/// </summary>
/// <param name="Step">Steps taken, this one included (1-based).</param>
/// <param name="TotalSteps">Steps the run is configured for.</param>
/// <param name="Epoch">The epoch the batch came from.</param>
/// <param name="Loss">The batch's contrastive loss (float, as computed).</param>
/// <param name="LearningRate">The rate AdamW used for this step.</param>
/// <param name="LogitScale">exp(logit_scale) after the step: the multiplier of the cosine similarities (1/temperature).</param>
/// <param name="GradNorm">Global gradient norm before clipping (null without clipping).</param>
/// <param name="SamplesPerSecond">Training pairs per second over recent steps (evaluation and checkpoint time excluded).</param>
/// <param name="Elapsed">Time since the loop started.</param>
/// <param name="Remaining">Estimated time to the last step, from this call's average step time.</param>
public sealed record StepMetrics(
    long Step, long TotalSteps, int Epoch, float Loss, double LearningRate, double LogitScale, double? GradNorm,
    double SamplesPerSecond, TimeSpan Elapsed, TimeSpan Remaining)
{
    /// <summary>The step's line in <c>metrics.jsonl</c> (the plan — total steps, remaining time — is not logged).</summary>
    public JsonObject ToJson() => new()
    {
        ["step"] = Step, ["epoch"] = Epoch, ["loss"] = Loss, ["lr"] = LearningRate, ["logit_scale"] = LogitScale,
        ["grad_norm"] = GradNorm, ["samples_per_s"] = Math.Round(SamplesPerSecond, 2), ["elapsed_s"] = Math.Round(Elapsed.TotalSeconds, 3),
    };
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
