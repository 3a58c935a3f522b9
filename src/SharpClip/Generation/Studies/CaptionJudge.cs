using SharpClip.Scoring;
using SharpClip.Training;
using SharpClip.Vision;
using SharpClip.ZeroShot;

namespace SharpClip.Generation.Studies;

/// <summary>How the judge saw one image made for (or of) a caption.</summary>
/// <param name="Cosine">The judge's cosine between the image and its caption.</param>
/// <param name="ClipScore">CLIPScore, 2.5 · max(cosine, 0) (<see cref="Scoring.ClipScore"/>).</param>
/// <param name="CaptionFirst">Its caption ranks first among itself and its K − 1 distractors (strictly: a tie is a miss).</param>
/// <param name="GroupFirst">Its group's prompt ranks first among every group's (strictly); null when the caption has no group.</param>
public sealed record Judgement(double Cosine, double ClipScore, bool CaptionFirst, bool? GroupFirst);

/// <summary>
/// The separately trained CLIP that grades a study's images, as DALL-E's and latent diffusion's papers grade theirs:
/// CLIP R-precision (is the image's own caption the judge's first choice among K captions, the others drawn from
/// the held-out set by <see cref="Distractors"/>; chance 1/K), the same among the source's group prompts when it has
/// groups (chance 1/groups), and CLIPScore. Captions and group prompts are embedded once, when the judge is made.
/// </summary>
public sealed class CaptionJudge
{
    readonly IReadOnlyList<float[]> _captions;
    readonly IReadOnlyList<float[]> _groups;
    readonly IReadOnlyList<int[]> _distractors;
    readonly int[] _groupOf;
    IReadOnlyList<Judgement>? _real;

    CaptionJudge(IImageTextEmbedder embedder, HeldOutSet set, int k, IReadOnlyList<string> groups, PromptTemplates groupTemplates,
        IReadOnlyList<float[]> captions, IReadOnlyList<float[]> groupVectors, IReadOnlyList<int[]> distractors)
    {
        Embedder = embedder;
        Set = set;
        K = k;
        Groups = groups;
        GroupTemplates = groupTemplates;
        _captions = captions;
        _groups = groupVectors;
        _distractors = distractors;
        var groupIndex = set.Groups.Select((g, i) => (g, i)).ToDictionary(t => t.g, t => t.i, StringComparer.Ordinal);
        _groupOf = [.. set.Captions.Select(c => groups.Count > 0 && c.Group is { } g ? groupIndex[g] : -1)];
    }

    /// <param name="judge">The judging model.</param>
    /// <param name="set">The held-out captions.</param>
    /// <param name="k">Captions each image's own is ranked among (itself and K − 1 distractors).</param>
    /// <param name="seed">Seeds the distractor draw.</param>
    /// <param name="groupTemplates">Turn a group name into its prompts ("{}" is replaced by the name), averaged as zero-shot
    /// classification ensembles them; null = the name alone.</param>
    /// <param name="cancellationToken">Honoured between embedding batches.</param>
    /// <exception cref="ArgumentException">K is below 2 or above the number of captions; a template has no "{}".</exception>
    public static CaptionJudge Create(IImageTextEmbedder judge, HeldOutSet set, int k, long seed, PromptTemplates? groupTemplates = null,
        CancellationToken cancellationToken = default)
    {
        groupTemplates ??= PromptTemplates.ClassNameOnly;
        var bad = groupTemplates.Templates.FirstOrDefault(t => !t.Contains("{}", StringComparison.Ordinal));
        if (bad is not null) throw new ArgumentException($"--templates: group prompt template '{bad}' has no {{}} for the group name");
        if (groupTemplates.Templates.Count == 0) throw new ArgumentException("--templates: no group prompt templates");
        var distractors = Distractors.Draw(set.Captions.Count, k, seed);
        var captions = judge.EmbedTexts([.. set.Captions.Select(c => c.Caption)], cancellationToken);
        // A single group ranks first trivially: group R-precision needs two or more.
        IReadOnlyList<string> groups = set.Groups.Count >= 2 ? set.Groups : [];
        // Every group's prompts in one call, group-major; each group's vector is its prompts' unit vectors averaged
        // (the zero-shot ensemble; the cosine later ignores the length).
        int perGroup = groupTemplates.Templates.Count;
        var embedded = groups.Count == 0 ? [] : judge.EmbedTexts([.. groups.SelectMany(groupTemplates.For)], cancellationToken);
        var vectors = new List<float[]>();
        for (int g = 0; g < groups.Count; g++)
        {
            var mean = new float[embedded[0].Length];
            foreach (var e in embedded.Skip(g * perGroup).Take(perGroup))
            {
                double norm = Math.Sqrt(e.Sum(x => (double)x * x));
                for (int d = 0; d < mean.Length; d++) mean[d] += (float)(norm == 0 ? 0 : e[d] / norm / perGroup);
            }
            vectors.Add(mean);
        }
        return new CaptionJudge(judge, set, k, groups, groupTemplates, captions, vectors, distractors);
    }

    public IImageTextEmbedder Embedder { get; }
    public HeldOutSet Set { get; }

    /// <summary>Captions an image's own is ranked among.</summary>
    public int K { get; }

    /// <summary>The groups ranked in group R-precision (<see cref="Set"/>'s); empty when it has fewer than two.</summary>
    public IReadOnlyList<string> Groups { get; }

    /// <summary>How a group's name becomes its prompts.</summary>
    public PromptTemplates GroupTemplates { get; }

    /// <summary>R-precision of guessing: 1/K.</summary>
    public double CaptionChance => 1.0 / K;

    /// <summary>Group R-precision of guessing: 1/groups, or null without groups.</summary>
    public double? GroupChance => Groups.Count > 0 ? 1.0 / Groups.Count : null;

    /// <summary>Caption <paramref name="caption"/>'s distractors (indices into <see cref="Set"/>'s captions).</summary>
    public IReadOnlyList<int> DistractorsOf(int caption) => _distractors[caption];

    /// <summary>The judgement of images made for caption <paramref name="caption"/>, embedded in one call.</summary>
    public IReadOnlyList<Judgement> Judge(int caption, IReadOnlyList<RgbImage> images, CancellationToken cancellationToken = default) =>
        [.. Embedder.EmbedImages(images, cancellationToken).Select(e => Judge(caption, e))];

    /// <summary>The judgement of one image embedding (the judge's) for caption <paramref name="caption"/>.</summary>
    public Judgement Judge(int caption, float[] image)
    {
        double own = Reranker.Cosine(image, _captions[caption]);
        bool first = _distractors[caption].All(d => own > Reranker.Cosine(image, _captions[d]));
        bool? groupFirst = null;
        if (_groupOf[caption] is var g and >= 0)
        {
            double mine = Reranker.Cosine(image, _groups[g]);
            groupFirst = Enumerable.Range(0, _groups.Count).All(o => o == g || mine > Reranker.Cosine(image, _groups[o]));
        }
        return new Judgement(own, ClipScore.FromCosine(own), first, groupFirst);
    }

    /// <summary>
    /// The real held-out images judged the same way: how far a perfect generator (one that drew the data) would get
    /// with this judge — the ceiling a study's rows are read against. Judged once per judge: a run of both studies
    /// reads and embeds the held-out images once.
    /// </summary>
    /// <exception cref="InvalidDataException">a real image cannot be read (named).</exception>
    public IReadOnlyList<Judgement> JudgeRealImages(CancellationToken cancellationToken = default)
    {
        if (_real is not null) return _real;
        var images = Set.Captions.Select(c =>
        {
            try { return TrainingInputs.Decode(c.Image).ToRgb(); }
            catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException)
            {
                throw new InvalidDataException($"{Set.Source}: held-out image {c.Image.Describe()} (caption '{c.Caption}') cannot be read: {e.Message}", e);
            }
        }).ToList();
        var embedded = Embedder.EmbedImages(images, cancellationToken);
        return _real = [.. embedded.Select((e, i) => Judge(i, e))];
    }
}
