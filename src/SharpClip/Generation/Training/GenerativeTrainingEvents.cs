using System.Text.Json.Nodes;
using SharpClip.Training;

namespace SharpClip.Generation.Training;

/// <summary>
/// What one optimizer step of a generative run (dVAE, DALL-E, latent diffusion) measured; reported as <see cref="GenerativeStepFinished"/> (a
/// <see cref="TrainingEvent"/>, so the same reporters and messages serve both) and appended to <c>metrics.jsonl</c>.
/// </summary>
/// <param name="Step">Steps taken, this one included (1-based).</param>
/// <param name="TotalSteps">Steps the run is configured for.</param>
/// <param name="Loss">The step's total loss.</param>
/// <param name="LearningRate">The rate AdamW used.</param>
/// <param name="Values">The loss's parts and the run's own gauges (temperature, KL weight, perplexity, dead codes, ...), in order.</param>
/// <param name="SamplesPerSecond">Training samples per second over recent steps.</param>
/// <param name="Elapsed">Time since the loop started.</param>
/// <param name="Remaining">Estimated time to the last step.</param>
public sealed record GenerativeStepMetrics(long Step, long TotalSteps, double Loss, double LearningRate, IReadOnlyList<(string Name, double Value)> Values,
    double SamplesPerSecond, TimeSpan Elapsed, TimeSpan Remaining)
{
    /// <summary>The step's line in metrics.jsonl.</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject { ["step"] = Step, ["loss"] = Loss, ["lr"] = LearningRate };
        foreach (var (name, value) in Values) o[name] = value;
        o["samples_per_s"] = Math.Round(SamplesPerSecond, 2);
        o["elapsed_s"] = Math.Round(Elapsed.TotalSeconds, 3);
        return o;
    }
}

/// <summary>A generative run's optimizer step finished.</summary>
public sealed record GenerativeStepFinished(GenerativeStepMetrics Metrics) : TrainingEvent;

/// <summary>What a generative run returns.</summary>
/// <param name="OutputDirectory">The run folder (a loadable model folder).</param>
/// <param name="Step">Steps taken when it stopped.</param>
/// <param name="TotalSteps">Steps configured.</param>
/// <param name="Interrupted">Cancellation stopped it (state saved; resume with <c>resume: true</c>).</param>
/// <param name="Losses">The loss of every step this call ran, by 1-based step.</param>
/// <param name="LastMetrics">The last step's metrics, if any ran.</param>
public sealed record GenerativeTrainingResult(string OutputDirectory, long Step, long TotalSteps, bool Interrupted,
    IReadOnlyList<(long Step, double Loss)> Losses, GenerativeStepMetrics? LastMetrics);
