using SharpClip.Data;
using SharpClip.Modeling;
using SharpClip.Text;
using SharpClip.Vision;

namespace SharpClip.Training;

/// <summary>
/// Evaluation during training, as the trainer needs it: prepared once at setup, then run on the model every
/// <c>eval_every</c> steps and at the end. Training defines this callback and Evaluation implements it
/// (<c>TrainingEvaluator</c> in the Evaluation folder), so the loop does not depend on how models are evaluated.
/// </summary>
public interface ITrainingEvaluation : IDisposable
{
    /// <summary>Evaluates <paramref name="model"/>, leaving its train/eval mode as it found it.</summary>
    /// <returns>Metric name → value, in a stable order; logged to <c>metrics.jsonl</c> as they come.</returns>
    IReadOnlyDictionary<string, double> Evaluate(ClipModel model, CancellationToken cancellationToken);
}

/// <summary>
/// What only the trainer knows at setup and an evaluation needs to prepare its validation set: the opened
/// <c>eval_data</c>, the run's image preprocessing and tokenizer, the model's context length, and the config's sample
/// and worker counts.
/// </summary>
/// <param name="Data">The validation pairs (the config's <c>eval_data</c>, opened with its <c>data_options</c>).</param>
/// <param name="Processor">The run's image preprocessing (the checkpoint's when fine-tuning).</param>
/// <param name="Tokenizer">The run's tokenizer.</param>
/// <param name="ContextLength">The model's text context length.</param>
/// <param name="MaxSamples">The config's <c>eval_samples</c>.</param>
/// <param name="Workers">Image decoding threads.</param>
public sealed record TrainingEvaluationContext(
    IImageTextSource Data, ClipImageProcessor Processor, ClipTokenizer Tokenizer, int ContextLength, int MaxSamples, int Workers);

/// <summary>Creates a run's <see cref="ITrainingEvaluation"/> at setup; the Evaluation folder's <c>TrainingEvaluator.Create</c> is one.</summary>
public delegate ITrainingEvaluation TrainingEvaluationFactory(TrainingEvaluationContext context, CancellationToken cancellationToken);
