using SharpClip.Data;
using System.Diagnostics;
using SharpClip.Pipelines;
using SharpClip.ZeroShot;

namespace SharpClip.Evaluation;

/// <summary>What a set's feature extraction could not read: the set, how many images, and why (each naming its file).</summary>
public sealed record UnreadableImages(string Set, int Count, IReadOnlyList<string> Failures);

/// <summary>
/// A linear-probe run as the paper reports it: the full probe (C chosen on validation), the k-shot probes, and the
/// zero-shot accuracy on the same test set as the line to beat.
/// </summary>
/// <param name="Probe">The full probe: C, validation and test accuracy.</param>
/// <param name="ProbeSeconds">Wall time of the full probe (sweep and final fit).</param>
/// <param name="FewShot">Accuracy per k, mean and spread over the seeds.</param>
/// <param name="ZeroShot">Zero-shot on the test set.</param>
/// <param name="Unreadable">Per set whose features were extracted (train, test, validation), the images left out.</param>
public sealed record LinearProbeRunResult(ProbeResult Probe, double ProbeSeconds, IReadOnlyList<FewShotPoint> FewShot, ZeroShotResult ZeroShot,
    IReadOnlyList<UnreadableImages> Unreadable);

/// <summary>
/// The <c>eval linear-probe</c> use case on labelled sets: features from the frozen image tower (cached), a logistic
/// regression probe, k-shot probes, and the zero-shot line, ready for <see cref="ProbeReport"/>.
/// </summary>
public static class LinearProbeRun
{
    /// <summary>Runs every probe of <paramref name="train"/> scored on <paramref name="test"/>.</summary>
    /// <param name="pipeline">The model whose frozen image features are probed.</param>
    /// <param name="train">What the probes are fitted on.</param>
    /// <param name="test">What they are scored on; the training set's classes, in its order.</param>
    /// <param name="validation">Where C is chosen; null: a seeded 20 % of the training set.</param>
    /// <param name="shots">k-shot sizes.</param>
    /// <param name="seeds">Random k-shot draws averaged per k.</param>
    /// <param name="templates">Templates for the zero-shot line; null: the test set's own prompts, else "a photo of a {}.".</param>
    /// <param name="options">Where features and classifier weights are cached.</param>
    /// <param name="progressFor">A progress sink per set while its features are extracted (null: none).</param>
    /// <param name="fitProgress">A line per fit of the probes (each C of the sweep, the final fit, each k-shot draw): the fits, not the features, take the time on large sets.</param>
    /// <param name="cancellationToken">Checked between batches and fits.</param>
    /// <exception cref="ArgumentException">the sets' classes differ, or <paramref name="seeds"/> is not positive.</exception>
    public static LinearProbeRunResult Evaluate(ClipPipeline pipeline, LabeledDataset train, LabeledDataset test, LabeledDataset? validation,
        IReadOnlyList<int> shots, int seeds, PromptTemplates? templates = null, EvaluationOptions? options = null,
        Func<LabeledDataset, IProgress<int>?>? progressFor = null, IProgress<string>? fitProgress = null, CancellationToken cancellationToken = default)
    {
        RequireSameClasses(train, test, validation);
        if (seeds <= 0) throw new ArgumentException($"--seeds: {seeds} is not a positive integer");
        options ??= new EvaluationOptions();

        var unreadable = new List<UnreadableImages>();
        LabeledFeatures Features(LabeledDataset set)
        {
            var features = ImageFeatures.ExtractCached(pipeline, set, options.CacheDirectory, progressFor?.Invoke(set), cancellationToken);
            unreadable.Add(new UnreadableImages(set.Name, features.Failed, features.Errors.OrderBy(e => e.Key).Select(e => e.Value).ToList()));
            return LabeledFeatures.From(features, set);
        }
        var trainFeatures = Features(train);
        var testFeatures = Features(test);
        var validationFeatures = validation is null ? null : Features(validation);
        int classes = train.ClassNames.Count;
        var clock = Stopwatch.StartNew();
        var probe = LinearProbe.Run(trainFeatures, validationFeatures, testFeatures, classes, progress: fitProgress, cancellationToken: cancellationToken);
        double probeSeconds = clock.Elapsed.TotalSeconds;
        var fewShot = LinearProbe.FewShot(trainFeatures, testFeatures, classes, shots, seeds, fitProgress, cancellationToken);
        var zeroShot = ZeroShotEvaluator.Evaluate(pipeline, test, templates, options, cancellationToken: cancellationToken);
        return new LinearProbeRunResult(probe, probeSeconds, fewShot, zeroShot, unreadable);
    }

    /// <summary>Throws unless <paramref name="test"/> and <paramref name="validation"/> have the training set's classes, in its order (a caller may check before loading a model).</summary>
    public static void RequireSameClasses(LabeledDataset train, LabeledDataset test, LabeledDataset? validation)
    {
        foreach (var other in new[] { test, validation })
            if (other is not null && !other.ClassNames.SequenceEqual(train.ClassNames))
                throw new ArgumentException($"{other.Name}: classes ({string.Join(", ", other.ClassNames.Take(5))}...) differ from the training set's ({string.Join(", ", train.ClassNames.Take(5))}...)");
    }
}
