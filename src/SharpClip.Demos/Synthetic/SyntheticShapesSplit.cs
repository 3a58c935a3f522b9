using SharpClip.Data;

namespace SharpClip.Demos.Synthetic;

/// <summary>
/// One split of <see cref="SyntheticShapes"/>: sample i is generated on demand from (seed, split, i), and is an
/// <see cref="IImageTextSource"/> (shards of <see cref="SyntheticShapesOptions.ShardSize"/> consecutive indices)
/// whose images are <see cref="RawRgbImage"/>s rendered lazily in the loader's workers. Its zero-shot tasks
/// (<see cref="IZeroShotTaskSource"/>) are what training reports beside retrieval.
/// </summary>
public sealed class SyntheticShapesSplit : IZeroShotTaskSource
{
    internal SyntheticShapesSplit(SyntheticShapes dataset, SyntheticSplit split, int count)
    {
        Dataset = dataset;
        Which = split;
        Count = count;
        Name = $"synthetic shapes ({split.ToString().ToLowerInvariant()}, {count} samples, seed {dataset.Options.Seed})";
        int shardSize = dataset.Options.ShardSize;
        Shards = Enumerable.Range(0, (count + shardSize - 1) / shardSize)
            .Select(k => (IImageTextShard)new DelegateShard($"{Which.ToString().ToLowerInvariant()}#{k}",
                (_, ct) => Range(k * shardSize, Math.Min(count, (k + 1) * shardSize), ct)))
            .ToList();
    }

    public SyntheticShapes Dataset { get; }
    public SyntheticSplit Which { get; }
    public int Count { get; }
    public string Name { get; }
    public IReadOnlyList<IImageTextShard> Shards { get; }
    public long? CountHint => Count;

    /// <summary>
    /// Every task of <see cref="SyntheticShapes.ZeroShotTasks"/>, labelled by scene: scored on this split, except the
    /// compositional held-out colour+shape task, which is scored on the held-out split (the only one holding its pairs).
    /// </summary>
    public IReadOnlyList<KeyedZeroShotTask> ZeroShotTasks => Dataset.ZeroShotTasks.Select(task =>
    {
        var on = task.Name == Dataset.HeldOutColourShapeTask.Name ? Dataset.Split(SyntheticSplit.HeldOut) : this;
        return new KeyedZeroShotTask(task.Name, task.ClassNames, task.Prompts, key => task.Label(on.Scene(on.IndexOf(key))), on);
    }).ToList();

    /// <summary>The key of sample i: "train-000042".</summary>
    public string KeyOf(int index) => $"{Which.ToString().ToLowerInvariant()}-{index:D6}";

    /// <summary>Parses a key made by <see cref="KeyOf"/> back into an index (for labels of loader batches).</summary>
    public int IndexOf(string key)
    {
        var prefix = Which.ToString().ToLowerInvariant() + "-";
        if (!key.StartsWith(prefix, StringComparison.Ordinal) || !int.TryParse(key.AsSpan(prefix.Length), out var i) || i < 0 || i >= Count)
            throw new ArgumentException($"'{key}' is not a key of the synthetic {Which} split", nameof(key));
        return i;
    }

    /// <summary>The scene (labels and exact layout) of sample i.</summary>
    public ShapeScene Scene(int index)
    {
        CheckIndex(index);
        var rng = StableHash.Rng(Dataset.Options.Seed, (long)Which, index, 0x5343454E);
        var pairs = Dataset.PairsOf(Which);
        var (shape, colour) = pairs[rng.Next(pairs.Count)];
        return SceneSampler.Sample(shape, colour, Dataset.Options.MaxCount, Dataset.Options.MaxNoise, rng);
    }

    /// <summary>Sample i's pixels, [ImageSize, ImageSize, 3].</summary>
    public byte[] Render(int index) => ShapeRasterizer.Render(Scene(index), Dataset.Options.ImageSize, Dataset.Options.Supersampling);

    /// <summary>Sample i's captions (distinct wordings of the same scene).</summary>
    public IReadOnlyList<string> Captions(int index) => CaptionsOf(Scene(index), index);

    /// <summary>Sample i as an image-text sample; the image renders when first read.</summary>
    public ImageTextSample Sample(int index)
    {
        var scene = Scene(index);
        int size = Dataset.Options.ImageSize, ss = Dataset.Options.Supersampling;
        var key = KeyOf(index);
        return new ImageTextSample(key, new RawRgbImage(size, size, () => ShapeRasterizer.Render(scene, size, ss), $"synthetic:{key}"), CaptionsOf(scene, index));
    }

    private IReadOnlyList<string> CaptionsOf(ShapeScene scene, int index) =>
        ShapeCaptioner.Captions(scene, Dataset.Options.CaptionsPerImage, StableHash.Rng(Dataset.Options.Seed, (long)Which, index, 0x43415054));

    private IEnumerable<ImageTextSample> Range(int from, int to, CancellationToken ct)
    {
        for (int i = from; i < to; i++)
        {
            ct.ThrowIfCancellationRequested();
            yield return Sample(i);
        }
    }

    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"index {index} outside the {Which} split of {Count} samples");
    }
}
