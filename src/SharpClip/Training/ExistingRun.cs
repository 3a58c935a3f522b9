using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpClip.Training;

/// <summary>
/// What a run folder already holds: the newest checkpoint's step and the config the run was started with. Lets a
/// recipe that is run again (the quickstart) reuse a finished run, resume an unfinished one, and refuse to continue a
/// run made with other settings — instead of failing because the folder is not empty.
/// </summary>
/// <param name="Output">The run folder.</param>
/// <param name="Step">The newest checkpoint's step.</param>
/// <param name="Config">The run's <c>training_config.json</c>; null when missing or unreadable.</param>
public sealed record ExistingRun(string Output, long Step, JsonObject? Config)
{
    /// <summary>
    /// Config fields that do not change what a run computes (where it is, how often it saves or evaluates, threads):
    /// a run may be resumed with other values.
    /// </summary>
    public static readonly IReadOnlySet<string> OutcomeNeutralFields = new HashSet<string>(StringComparer.Ordinal)
        { "output", "resume", "save_every", "eval_every", "eval_samples", "eval_data", "keep_checkpoints", "threads", "workers" };

    /// <summary>The run in <paramref name="output"/>, or null when it holds no checkpoint (nothing to reuse or resume).</summary>
    public static ExistingRun? Find(string output)
    {
        var checkpoints = TrainingCheckpoint.List(Path.Combine(output, Trainer.CheckpointsFolderName));
        if (checkpoints.Count == 0) return null;
        JsonObject? config = null;
        try { config = JsonNode.Parse(File.ReadAllText(Path.Combine(output, Trainer.ConfigFileName))) as JsonObject; }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { }
        return new ExistingRun(output, checkpoints.Max(c => c.Step), config);
    }

    /// <summary>Whether the run reached the <paramref name="totalSteps"/> it was configured for.</summary>
    public bool IsFinished(long totalSteps) => Step >= totalSteps;

    /// <summary>
    /// The fields outside <see cref="OutcomeNeutralFields"/> where <paramref name="config"/> differs from the run's,
    /// as "field run-value → new-value"; all of them when the run's config is unreadable.
    /// </summary>
    public IReadOnlyList<string> Differences(TrainingConfig config)
    {
        if (Config is null) return [$"{Trainer.ConfigFileName} missing or unreadable"];
        var now = config.ToJsonNode().AsObject();
        return now.Where(kv => !OutcomeNeutralFields.Contains(kv.Key) && !JsonNode.DeepEquals(Config[kv.Key], kv.Value))
            .Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {Config[kv.Key]?.ToJsonString() ?? "null"} → {kv.Value?.ToJsonString() ?? "null"}"))
            .ToList();
    }
}
