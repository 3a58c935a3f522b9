namespace SharpClip.Data;

/// <summary>
/// A source whose samples carry class labels besides captions, so training can also report zero-shot accuracy on it
/// (e.g. a generated set that knows each image's shape and colour). The training evaluator needs only this, never the
/// data set's own types.
/// </summary>
public interface IZeroShotTaskSource : IImageTextSource
{
    /// <summary>The tasks to score, in report order.</summary>
    IReadOnlyList<KeyedZeroShotTask> ZeroShotTasks { get; }
}

/// <summary>
/// A zero-shot classification task over a source's samples: class names, the prompts that describe each class (an
/// evaluator embeds them, averages per class and compares with image embeddings), and each sample's label by key.
/// </summary>
/// <param name="Name">"shape", "colour", "held-out colour+shape", ...; metric names derive from it.</param>
/// <param name="ClassNames">Readable class names, index = label.</param>
/// <param name="Prompts">Per class, the prompts to embed and average (in training vocabulary).</param>
/// <param name="LabelOf">The class of the sample with this key in <paramref name="EvaluatedOn"/>, or -1 when it belongs to none.</param>
/// <param name="EvaluatedOn">The source whose samples the task is scored on: the task source itself, or another split (e.g. the held-out one for a compositional score).</param>
public sealed record KeyedZeroShotTask(
    string Name,
    IReadOnlyList<string> ClassNames,
    IReadOnlyList<IReadOnlyList<string>> Prompts,
    Func<string, int> LabelOf,
    IImageTextSource EvaluatedOn)
{
    public int ClassCount => ClassNames.Count;

    /// <summary>Accuracy of guessing uniformly.</summary>
    public double Chance => 1.0 / ClassCount;
}
