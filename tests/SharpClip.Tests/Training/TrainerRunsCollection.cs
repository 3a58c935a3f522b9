namespace SharpClip.Tests.Training;

/// <summary>
/// Whole training runs: they run alone (after the parallel tests), because a run seeds libtorch's global generator
/// before building its model (another test drawing random numbers in between would change the initialisation) and
/// because the learning test's time budget assumes the cores are its own.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainerRunsCollection
{
    public const string Name = "Training runs";
}

/// <summary>Delivers reports synchronously (Progress&lt;T&gt; would post them to the thread pool).</summary>
internal sealed class SyncProgress(Action<SharpClip.Training.TrainingEvent> report) : IProgress<SharpClip.Training.TrainingEvent>
{
    public void Report(SharpClip.Training.TrainingEvent value) => report(value);
}
