using SharpClip.Data;

namespace SharpClip.Demos.Synthetic;

/// <summary>Settings of the built-in synthetic shapes dataset.</summary>
public sealed record SyntheticShapesOptions
{
    /// <summary>Side of the rendered square images, in pixels.</summary>
    public int ImageSize { get; init; } = 64;

    /// <summary>Seeds the held-out pairs and every scene; the same seed gives the same dataset on any machine.</summary>
    public int Seed { get; init; }

    public int TrainCount { get; init; } = 20_000;
    public int ValidationCount { get; init; } = 1_000;
    public int HeldOutCount { get; init; } = 1_000;

    /// <summary>Colours withheld per shape: those colour×shape pairs appear only in the held-out split.</summary>
    public int HeldOutColoursPerShape { get; init; } = 2;

    /// <summary>Captions per image (distinct wordings); the loader draws one per epoch.</summary>
    public int CaptionsPerImage { get; init; } = 4;

    /// <summary>Objects per scene are 1..MaxCount.</summary>
    public int MaxCount { get; init; } = 3;

    /// <summary>Anti-aliasing: sample points per pixel along each axis.</summary>
    public int Supersampling { get; init; } = 4;

    /// <summary>Largest per-pixel background noise amplitude (0..255 scale); each image draws its own in [0, this].</summary>
    public double MaxNoise { get; init; } = 10;

    /// <summary>Samples per shard, for the loader's shard shuffling.</summary>
    public int ShardSize { get; init; } = 1000;

    public SyntheticShapesOptions Validate()
    {
        void Require(bool ok, string field, string why) { if (!ok) throw new ArgumentException($"synthetic shapes option '{field}': {why}"); }
        Require(ImageSize >= 8, nameof(ImageSize), "must be at least 8");
        Require(TrainCount >= 0 && ValidationCount >= 0 && HeldOutCount >= 0, nameof(TrainCount), "counts must not be negative");
        Require(HeldOutColoursPerShape >= 0 && HeldOutColoursPerShape < ShapeVocabulary.Colours.Count, nameof(HeldOutColoursPerShape),
            $"must be in 0..{ShapeVocabulary.Colours.Count - 1} so every shape keeps colours for training");
        Require(CaptionsPerImage >= 1, nameof(CaptionsPerImage), "must be at least 1");
        Require(MaxCount is >= 1 and <= 3, nameof(MaxCount), "must be 1, 2 or 3 (more objects do not fit the layouts)");
        Require(Supersampling >= 1, nameof(Supersampling), "must be at least 1");
        Require(MaxNoise >= 0, nameof(MaxNoise), "must not be negative");
        Require(ShardSize >= 1, nameof(ShardSize), "must be positive");
        return this;
    }
}

/// <summary>The splits of the synthetic set.</summary>
public enum SyntheticSplit
{
    /// <summary>Seen colour×shape pairs only.</summary>
    Train,
    /// <summary>Seen pairs, new scenes: in-distribution evaluation.</summary>
    Validation,
    /// <summary>Only the withheld colour×shape pairs: zero-shot transfer to unseen combinations.</summary>
    HeldOut,
}

/// <summary>
/// A built-in image-text dataset that needs no files or network: scenes of 1-3 coloured shapes (8 shapes × 10
/// colours × 2 sizes × 5 positions × 1-3 objects) rendered on demand by <see cref="ShapeRasterizer"/>, with varied
/// captions. Some colour×shape pairs (e.g. "green star") never occur in <see cref="SyntheticSplit.Train"/>; the
/// <see cref="SyntheticSplit.HeldOut"/> split contains only them, so a model that learned "green" and "star"
/// separately can be measured on the combination (<see cref="HeldOutColourShapeTask"/>). Everything is a function of
/// the options: sample i of a split is the same on every machine, and is generated lazily.
/// </summary>
public sealed class SyntheticShapes
{
    private readonly bool[,] _heldOut;   // [shape, colour]

    public SyntheticShapes(SyntheticShapesOptions? options = null)
    {
        Options = (options ?? new SyntheticShapesOptions()).Validate();
        int shapes = ShapeVocabulary.Shapes.Count, colours = ShapeVocabulary.Colours.Count, h = Options.HeldOutColoursPerShape;
        _heldOut = new bool[shapes, colours];
        // A diagonal pattern with a seeded offset: each shape loses h colours, and the losses spread evenly over the
        // colours, so every colour and every shape still appears in training with most partners.
        int offset = StableHash.Rng(Options.Seed, 0x484F4C44).Next(colours);
        for (int s = 0; s < shapes; s++)
            for (int j = 0; j < h; j++)
                _heldOut[s, (offset + s * h + j) % colours] = true;
        var seen = new List<(ShapeKind, int)>();
        var held = new List<(ShapeKind, int)>();
        for (int s = 0; s < shapes; s++)
            for (int c = 0; c < colours; c++)
                (_heldOut[s, c] ? held : seen).Add(((ShapeKind)s, c));
        SeenPairs = seen;
        HeldOutPairs = held;
    }

    public SyntheticShapesOptions Options { get; }

    /// <summary>Colour×shape pairs that occur in Train and Validation.</summary>
    public IReadOnlyList<(ShapeKind Shape, int ColourIndex)> SeenPairs { get; }

    /// <summary>Colour×shape pairs that occur only in HeldOut.</summary>
    public IReadOnlyList<(ShapeKind Shape, int ColourIndex)> HeldOutPairs { get; }

    public bool IsHeldOut(ShapeKind shape, int colourIndex) => _heldOut[(int)shape, colourIndex];

    /// <summary>One split as an image-text source (lazy: nothing is rendered until the image pipeline asks).</summary>
    public SyntheticShapesSplit Split(SyntheticSplit split) => new(this, split, split switch
    {
        SyntheticSplit.Train => Options.TrainCount,
        SyntheticSplit.Validation => Options.ValidationCount,
        _ => Options.HeldOutCount,
    });

    /// <summary>The allowed pairs of a split.</summary>
    public IReadOnlyList<(ShapeKind Shape, int ColourIndex)> PairsOf(SyntheticSplit split) =>
        split == SyntheticSplit.HeldOut ? HeldOutPairs : SeenPairs;

    // ---- zero-shot tasks -------------------------------------------------------------------------------------

    /// <summary>Which shape (8 classes); each class's prompts name it in every colour, to average out colour.</summary>
    public ZeroShotTask ShapeTask => new("shape",
        ShapeVocabulary.Shapes.Select(s => ShapeVocabulary.Noun(s)).ToList(),
        ShapeVocabulary.Shapes.Select(s => (IReadOnlyList<string>)ShapeVocabulary.Colours
            .Select(c => ShapeVocabulary.WithArticle($"{c.Name} {ShapeVocabulary.Noun(s)}")).Append(ShapeVocabulary.WithArticle(ShapeVocabulary.Noun(s))).ToList()).ToList(),
        scene => (int)scene.Shape);

    /// <summary>Which colour (10 classes); prompts name the colour with every shape.</summary>
    public ZeroShotTask ColourTask => new("colour",
        ShapeVocabulary.Colours.Select(c => c.Name).ToList(),
        ShapeVocabulary.Colours.Select(c => (IReadOnlyList<string>)ShapeVocabulary.Shapes
            .Select(s => ShapeVocabulary.WithArticle($"{c.Name} {ShapeVocabulary.Noun(s)}")).ToList()).ToList(),
        scene => scene.ColourIndex);

    /// <summary>Small or large.</summary>
    public ZeroShotTask SizeTask => new("size",
        ShapeVocabulary.Sizes.Select(ShapeVocabulary.SizeWord).ToList(),
        ShapeVocabulary.Sizes.Select(z => (IReadOnlyList<string>)ShapeVocabulary.Shapes
            .Select(s => ShapeVocabulary.WithArticle($"{ShapeVocabulary.SizeWord(z)} {ShapeVocabulary.Noun(s)}")).ToList()).ToList(),
        scene => (int)scene.Size);

    /// <summary>Left, right, top, bottom or centre.</summary>
    public ZeroShotTask PositionTask => new("position",
        ShapeVocabulary.Positions.Select(ShapeVocabulary.PositionPhrase).ToList(),
        ShapeVocabulary.Positions.Select(p => (IReadOnlyList<string>)ShapeVocabulary.Shapes
            .Select(s => $"{ShapeVocabulary.WithArticle(ShapeVocabulary.Noun(s))} {ShapeVocabulary.PositionPhrase(p)}").ToList()).ToList(),
        scene => (int)scene.Position);

    /// <summary>How many objects (1..MaxCount).</summary>
    public ZeroShotTask CountTask => new("count",
        Enumerable.Range(1, Options.MaxCount).Select(ShapeVocabulary.CountWord).ToList(),
        Enumerable.Range(1, Options.MaxCount).Select(n => (IReadOnlyList<string>)ShapeVocabulary.Shapes
            .Select(s => $"{(n == 1 ? ShapeVocabulary.Article(ShapeVocabulary.Noun(s)) : ShapeVocabulary.CountWord(n))} {ShapeVocabulary.Noun(s, n)}").ToList()).ToList(),
        scene => scene.Count - 1);

    /// <summary>Colour and shape together, over all 80 pairs.</summary>
    public ZeroShotTask ColourShapeTask => PairTask("colour+shape", [.. SeenPairs.Concat(HeldOutPairs).OrderBy(p => ((int)p.Shape, p.ColourIndex))]);

    /// <summary>
    /// Colour and shape among the held-out pairs only: the compositional transfer score on the HeldOut split
    /// (chance = 1 / HeldOutPairs.Count). Scenes of seen pairs get label -1.
    /// </summary>
    public ZeroShotTask HeldOutColourShapeTask => PairTask("held-out colour+shape", HeldOutPairs);

    /// <summary>Every task, keyed by name.</summary>
    public IReadOnlyList<ZeroShotTask> ZeroShotTasks =>
        [ShapeTask, ColourTask, SizeTask, PositionTask, CountTask, ColourShapeTask, HeldOutColourShapeTask];

    private static ZeroShotTask PairTask(string name, IReadOnlyList<(ShapeKind Shape, int ColourIndex)> pairs)
    {
        var index = pairs.Select((p, i) => (p, i)).ToDictionary(t => t.p, t => t.i);
        return new(name,
            pairs.Select(p => $"{ShapeVocabulary.Colours[p.ColourIndex].Name} {ShapeVocabulary.Noun(p.Shape)}").ToList(),
            pairs.Select(p =>
            {
                var phrase = $"{ShapeVocabulary.Colours[p.ColourIndex].Name} {ShapeVocabulary.Noun(p.Shape)}";
                return (IReadOnlyList<string>)[ShapeVocabulary.WithArticle(phrase), $"there is {ShapeVocabulary.WithArticle(phrase)}", $"a picture of {ShapeVocabulary.WithArticle(phrase)}"];
            }).ToList(),
            scene => index.TryGetValue((scene.Shape, scene.ColourIndex), out var i) ? i : -1);
    }
}

/// <summary>
/// A zero-shot classification task over synthetic scenes: class names, the prompts that describe each class (an
/// evaluator embeds them, averages per class and compares with image embeddings), and the true label of a scene.
/// </summary>
/// <param name="Name">"shape", "colour", "colour+shape", ...</param>
/// <param name="ClassNames">Readable class names, index = label.</param>
/// <param name="Prompts">Per class, the prompts to embed and average (in training vocabulary).</param>
/// <param name="Label">The class of a scene, or -1 when the scene belongs to none of the classes.</param>
public sealed record ZeroShotTask(
    string Name,
    IReadOnlyList<string> ClassNames,
    IReadOnlyList<IReadOnlyList<string>> Prompts,
    Func<ShapeScene, int> Label)
{
    public int ClassCount => ClassNames.Count;

    /// <summary>Accuracy of guessing uniformly.</summary>
    public double Chance => 1.0 / ClassCount;
}
