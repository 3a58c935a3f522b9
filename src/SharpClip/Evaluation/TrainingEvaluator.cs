using SharpClip.Data;
using SharpClip.Data.Loading;
using SharpClip.Modeling;
using SharpClip.Text;
using SharpClip.Training;
using SharpClip.Vision;
using SharpClip.ZeroShot;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Evaluation;

/// <summary>
/// The evaluation during a training run (<see cref="ITrainingEvaluation"/>; pass <see cref="Create"/> to
/// <see cref="Trainer.Run"/>), on a fixed set of validation pairs prepared once (images centre-cropped as at
/// inference, first caption of each):
/// <list type="bullet">
/// <item>retrieval recall@1/5 in both directions (<see cref="RetrievalMetrics"/>) — among the M validation captions, is
/// an image's own caption in its top k, and among the M images, is a caption's own image in its top k;</item>
/// <item>on a source that defines zero-shot tasks (<see cref="IZeroShotTaskSource"/>, e.g. the synthetic shapes),
/// zero-shot accuracy of every task, with prompt ensembles (<see cref="ZeroShotClassifier"/>), each on the split it
/// names: for the shapes, the validation split, and the compositional score — colour×shape among the held-out pairs
/// on the held-out split, images of combinations the model never saw in training.</item>
/// </list>
/// </summary>
public sealed class TrainingEvaluator : ITrainingEvaluation
{
    sealed record ZeroShotSet(string Name, KeyedZeroShotTask Task, Tensor Pixels, long[] Labels, Tensor PromptIds, int PromptsPerClass);

    readonly Tensor? _pixels;   // [M, 3, r, r]
    readonly Tensor? _ids;      // [M, context]
    readonly List<ZeroShotSet> _zeroShot;

    TrainingEvaluator(Tensor? pixels, Tensor? ids, List<ZeroShotSet> zeroShot)
    {
        _pixels = pixels;
        _ids = ids;
        _zeroShot = zeroShot;
    }

    /// <summary>Validation pairs used for retrieval.</summary>
    public long RetrievalPairs => _pixels?.shape[0] ?? 0;

    /// <summary>Zero-shot tasks evaluated, with their chance accuracy.</summary>
    public IEnumerable<(string Name, double Chance)> ZeroShotTasks => _zeroShot.Select(z => (z.Name, z.Task.Chance));

    /// <summary>
    /// Prepares the evaluation sets (decoding and tokenising once) from what the trainer knows at setup; a
    /// <see cref="TrainingEvaluationFactory"/>, so <c>Trainer.Run(config, progress, ct, TrainingEvaluator.Create)</c>
    /// evaluates a run whose config sets <c>eval_data</c>.
    /// </summary>
    /// <param name="context">Validation pairs, the run's preprocessing and tokenizer, context length, sample and worker counts.</param>
    /// <param name="cancellationToken">Stops the preparation.</param>
    public static TrainingEvaluator Create(TrainingEvaluationContext context, CancellationToken cancellationToken = default)
    {
        var (source, processor, tokenizer, contextLength, maxSamples, workers) = context;
        var (pixels, ids, keys) = Load(source, processor, tokenizer, contextLength, maxSamples, workers, cancellationToken);
        var zeroShot = new List<ZeroShotSet>();
        if (source is IZeroShotTaskSource tasks)
        {
            foreach (var task in tasks.ZeroShotTasks)
            {
                var on = task.EvaluatedOn;
                var (px, _, k) = ReferenceEquals(on, source) ? (pixels, ids, keys) : Load(on, processor, tokenizer, contextLength, maxSamples, workers, cancellationToken);
                var labels = k.Select(key => (long)task.LabelOf(key)).ToArray();
                if (labels.All(l => l < 0)) { if (!ReferenceEquals(px, pixels)) px.Dispose(); continue; }
                int perClass = task.Prompts[0].Count;
                if (task.Prompts.Any(p => p.Count != perClass)) continue; // the classifier needs equally many prompts per class
                var prompts = tokenizer.Tokenize(task.Prompts.SelectMany(p => p).ToList(), contextLength, truncate: true);
                zeroShot.Add(new ZeroShotSet(MetricName(task.Name), task, ReferenceEquals(px, pixels) ? px.alias().DetachFromDisposeScope() : px, labels, prompts.DetachFromDisposeScope(), perClass));
            }
        }
        return new TrainingEvaluator(pixels, ids, zeroShot);
    }

    static (Tensor Pixels, Tensor Ids, List<string> Keys) Load(IImageTextSource source, ClipImageProcessor processor, ClipTokenizer tokenizer,
        int contextLength, int maxSamples, int workers, CancellationToken cancellationToken)
    {
        int size = processor.OutputSize.Width;
        var options = ClipLoaderOptions.ForEvaluation(Math.Min(maxSamples, 256), size) with { Workers = workers };
        var loader = new ClipDataLoader(source, TrainingInputs.Centered(processor), TrainingInputs.Captions(tokenizer, contextLength), options);
        var pixels = new List<float>();
        var ids = new List<long>();
        var keys = new List<string>();
        foreach (var batch in loader.ReadEpoch(0, cancellationToken: cancellationToken))
        {
            int take = Math.Min(batch.Count, maxSamples - keys.Count);
            pixels.AddRange(batch.Pixels.AsSpan(0, take * 3 * size * size));
            ids.AddRange(batch.TokenIds.AsSpan(0, take * batch.ContextLength));
            keys.AddRange(batch.Keys.Take(take));
            if (keys.Count >= maxSamples) break;
        }
        if (keys.Count < 2) throw new InvalidDataException($"{source.Name}: fewer than 2 usable validation pairs");
        return (torch.tensor(pixels.ToArray(), [keys.Count, 3, size, size]).DetachFromDisposeScope(),
                torch.tensor(ids.ToArray(), [keys.Count, contextLength]).DetachFromDisposeScope(), keys);
    }

    static string MetricName(string task) => "zero_shot/" + new string(task.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray());

    /// <summary>Runs every evaluation on <paramref name="model"/> (in eval mode; its mode is restored afterwards).</summary>
    /// <returns>Metric name → value, e.g. <c>retrieval/image_to_text_r1</c>, <c>zero_shot/held_out_colour_shape</c>.</returns>
    public IReadOnlyDictionary<string, double> Evaluate(ClipModel model, CancellationToken cancellationToken = default)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            var metrics = new Dictionary<string, double>();
            if (_pixels is not null && _ids is not null)
            {
                using var image = InSlices(_pixels, p => model.EmbedImages(p));
                using var text = InSlices(_ids, t => model.EmbedTexts(t));
                foreach (var (k, v) in RetrievalRecall(image, text, [1, 5])) metrics[k] = v;
            }
            foreach (var z in _zeroShot)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var classifier = ZeroShotClassifier.FromTokenIds(model, z.PromptIds, z.Task.ClassCount, z.Task.ClassNames, cancellationToken: cancellationToken);
                using var image = InSlices(z.Pixels, p => model.EmbedImages(p));
                using var logits = classifier.Logits(image);
                var predicted = logits.argmax(1).data<long>().ToArray();
                int labelled = 0, correct = 0;
                for (int i = 0; i < predicted.Length; i++)
                {
                    if (z.Labels[i] < 0) continue;
                    labelled++;
                    if (predicted[i] == z.Labels[i]) correct++;
                }
                metrics[z.Name] = (double)correct / labelled;
            }
            return metrics;
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }

    /// <summary>Runs <paramref name="embed"/> over 256-row slices of <paramref name="input"/> and concatenates the results.</summary>
    static Tensor InSlices(Tensor input, Func<Tensor, Tensor> embed)
    {
        var parts = new List<Tensor>();
        for (long s = 0; s < input.shape[0]; s += 256)
            using (var slice = input.narrow(0, s, Math.Min(256, input.shape[0] - s))) parts.Add(embed(slice));
        var all = torch.cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return all;
    }

    /// <summary>
    /// Recall@k both ways for M matching pairs, by <see cref="RetrievalMetrics"/>: the fraction of images whose own
    /// caption is among the k most similar captions (<c>retrieval/image_to_text_r{k}</c>), and of captions whose own
    /// image is among the k most similar images (<c>retrieval/text_to_image_r{k}</c>).
    /// </summary>
    /// <param name="imageEmbeddings">[M, D].</param>
    /// <param name="textEmbeddings">[M, D]; row i belongs to image i.</param>
    /// <param name="ks">The k values.</param>
    public static Dictionary<string, double> RetrievalRecall(Tensor imageEmbeddings, Tensor textEmbeddings, IReadOnlyList<int> ks)
    {
        using var images = imageEmbeddings.to(ScalarType.Float32, CPU).contiguous();
        using var texts = textEmbeddings.to(ScalarType.Float32, CPU).contiguous();
        int pairs = (int)images.shape[0];
        var metrics = RetrievalMetrics.Compute(images.data<float>().ToArray(), texts.data<float>().ToArray(), (int)images.shape[1],
            Enumerable.Range(0, pairs).ToArray(), ks);
        var result = new Dictionary<string, double>();
        foreach (var k in ks)
        {
            result[$"retrieval/image_to_text_r{k}"] = metrics.ImageToText[k];
            result[$"retrieval/text_to_image_r{k}"] = metrics.TextToImage[k];
        }
        return result;
    }

    public void Dispose()
    {
        _pixels?.Dispose();
        _ids?.Dispose();
        foreach (var z in _zeroShot)
        {
            z.Pixels.Dispose();
            z.PromptIds.Dispose();
        }
    }
}
