namespace SharpClip.Training;

/// <summary>
/// Trains or fine-tunes CLIP as a <see cref="TrainingConfig"/> says, in nanoGPT's shape: set up
/// (<see cref="TrainingSetup"/>: text, model, objective and optimizer, data), then the loop — batch → exact
/// forward/backward → clip → AdamW → clamp the temperature → log, evaluate, checkpoint. The run folder ends up a
/// SharpClip model folder every verb can load.
/// </summary>
public static class Trainer
{
    /// <summary>Trained vocabulary file name inside the run folder (when no vocabulary was given).</summary>
    public const string LearnedVocabFileName = "bpe_vocab.txt.gz";

    /// <summary>The resolved config of a run, written at its start.</summary>
    public const string ConfigFileName = "training_config.json";

    /// <summary>The folder inside the run folder that holds its training checkpoints.</summary>
    public const string CheckpointsFolderName = "checkpoints";

    /// <summary>
    /// Runs training to the configured number of steps, or until <paramref name="cancellationToken"/> fires: then the
    /// state after the last finished step is saved and the result says <see cref="TrainingResult.Interrupted"/>
    /// (cancellation during setup, before the first step, throws <see cref="OperationCanceledException"/>).
    /// </summary>
    /// <param name="config">What to train; validated first.</param>
    /// <param name="progress">Receives <see cref="TrainingEvent"/>s synchronously on the training thread, in order.</param>
    /// <param name="cancellationToken">Stops the run after the current step (Ctrl-C in the CLI).</param>
    /// <param name="evaluation">
    /// Evaluation during training, required when the config sets <c>eval_data</c>: pass
    /// <c>TrainingEvaluator.Create</c> (Evaluation folder) for the built-in retrieval recall and zero-shot metrics
    /// (what <c>sharpclip train</c> does). Training defines the callback and Evaluation implements it, so the trainer
    /// cannot create it itself; a run asked to evaluate without one fails before any work rather than silently skip it.
    /// </param>
    /// <exception cref="ArgumentException">the config is invalid, or sets <c>eval_data</c> and no evaluation was given.</exception>
    public static TrainingResult Run(TrainingConfig config, IProgress<TrainingEvent>? progress = null, CancellationToken cancellationToken = default,
        TrainingEvaluationFactory? evaluation = null)
    {
        config = config.Validate();
        if (config.EvalData is not null && evaluation is null)
            throw new ArgumentException($"training config field 'eval_data' is '{config.EvalData}' but Trainer.Run was given no evaluation: " +
                "pass TrainingEvaluator.Create from the Evaluation namespace (or your own TrainingEvaluationFactory), or set eval_data to null");
        using var run = TrainingSetup.Start(config, progress, evaluation, cancellationToken);

        var losses = new List<(long Step, float Loss)>();
        bool interrupted = false;
        try
        {
            foreach (var batch in run.Batches(cancellationToken))
            {
                var step = run.TrainOn(batch, cancellationToken);
                losses.Add((step.Step, step.Loss));
                run.Log(step);
                if (run.Due(config.SaveEvery)) run.SaveCheckpoint();
                if (run.Due(config.EvalEvery)) run.Evaluate(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            interrupted = true;
            run.Info($"interrupted after step {run.Position.Step}; saving");
        }

        // ---- the end: the final state, the model folder, a last evaluation -------------------------------------
        if (!run.SavedCurrentStep) run.SaveCheckpoint();
        if (!interrupted) run.Evaluate(cancellationToken);
        run.ReportData();
        return new TrainingResult(run.Output, run.Position, run.TotalSteps, interrupted, losses, run.LastEvaluation, run.LastCheckpoint);
    }
}
