using SharpClip.Generation.TextToImage;
using SharpClip.Scoring;
using SharpClip.Vision;

namespace SharpClip.Generation.Studies;

/// <summary>How a reranking study runs.</summary>
public sealed record RerankingStudyOptions
{
    /// <summary>The candidate counts N compared; the largest is generated per caption, the others are its first N.</summary>
    public IReadOnlyList<int> Candidates { get; init; } = [1, 2, 4, 8, 16, 32];

    /// <summary>Caption m's candidates use seeds <c>Seed + m·Nmax + i</c>: every image of the study has its own seed.</summary>
    public long Seed { get; init; }

    /// <summary>The generator's settings (steps, sampler, temperature...); its prompt, count and seed are the study's.</summary>
    public TextToImageRequest? Settings { get; init; }

    /// <summary>Captions whose candidates are kept for the sample grid (the first ones).</summary>
    public int SampleCaptions { get; init; } = 4;
}

/// <summary>One candidate of a caption: its seed, the reranker's cosine to the caption, and the judge's view of it.</summary>
public sealed record ScoredCandidate(long Seed, double RerankerCosine, Judgement Judge);

/// <summary>
/// One caption's share of the study: every candidate, which one each N keeps (<c>Kept[c]</c> = the index of the
/// candidate kept with the study's c-th candidate count), and the real image's judgement.
/// </summary>
public sealed record RerankedCaption(HeldOutCaption Caption, IReadOnlyList<ScoredCandidate> Candidates, IReadOnlyList<int> Kept, Judgement Real);

/// <summary>
/// A row of the study: reranking the first N = <c>Candidates</c> candidates and keeping the best. <c>RerankerCosine</c>
/// is the reranker's cosine of the kept candidate (what reranking maximises, so it rises with N by construction);
/// <c>Judge</c> the judge's metrics of the kept candidate; <c>RPrecisionLift</c> the paired lift: per caption, the
/// kept candidate's R-precision hit minus candidate 0's (a single sample).
/// </summary>
public sealed record RerankingRow(int Candidates, MetricSummary RerankerCosine, JudgementSummary Judge, MetricSummary RPrecisionLift);

/// <summary>
/// What a reranking study measured, with everything its reports need: the models, the judge (captions, distractors,
/// group prompts), a row per candidate count, <c>RandomCandidate</c> (the judge's metrics of a candidate picked at
/// random: each caption's mean over all its candidates — the floor), <c>RealImages</c> (the held-out images
/// themselves — the ceiling), every caption's candidates, the generator settings every candidate was made with
/// (<see cref="ITextToImageGenerator.Resolve"/>), and the candidates of the first captions for the sample grid.
/// </summary>
public sealed record RerankingStudyResult(
    string Generator, string GeneratorKind, string Reranker, CaptionJudge Judge, long Seed, IReadOnlyList<int> CandidateCounts, IReadOnlyList<RerankingRow> Rows,
    JudgementSummary RandomCandidate, JudgementSummary RealImages, IReadOnlyList<RerankedCaption> PerCaption,
    IReadOnlyDictionary<string, object?> Settings, IReadOnlyList<IReadOnlyList<RgbImage>> SampleImages);

/// <summary>
/// DALL-E's claim, measured (issue 16 §4): does keeping the best of N candidates by one CLIP's judgement make images
/// that a separately trained CLIP also finds closer to the caption? Per held-out caption the generator makes Nmax
/// candidates once (fixed seeds); for each N the reranker keeps the best of the first N (ties: the earlier one), and
/// the judge grades the kept image — R-precision among K captions, among the group prompts, and CLIPScore. A random
/// candidate (each caption's mean over its candidates) is the floor and the real held-out image the ceiling.
/// </summary>
public static class RerankingStudy
{
    /// <exception cref="ArgumentException">no candidate counts, or one below 1; settings the generator refuses.</exception>
    public static RerankingStudyResult Run(ITextToImageGenerator generator, IImageTextEmbedder reranker, CaptionJudge judge,
        RerankingStudyOptions options, IProgress<StudyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (options.Candidates.Count == 0) throw new ArgumentException("--candidates: no candidate counts");
        if (options.Candidates.Any(n => n < 1)) throw new ArgumentException($"--candidates: {options.Candidates.First(n => n < 1)} is not a positive count");
        var counts = options.Candidates.Distinct().Order().ToList();
        int nMax = counts[^1];
        var set = judge.Set;
        var settings = generator.Resolve(Request(options, set.Captions[0].Caption, nMax, options.Seed));

        var captionVectors = reranker.EmbedTexts([.. set.Captions.Select(c => c.Caption)], cancellationToken);
        progress?.Report(new StudyProgress("judging the real images", 0, set.Captions.Count, set.Source));
        var real = judge.JudgeRealImages(cancellationToken);

        var perCaption = new List<RerankedCaption>();
        var samples = new List<IReadOnlyList<RgbImage>>();
        for (int m = 0; m < set.Captions.Count; m++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var caption = set.Captions[m];
            progress?.Report(new StudyProgress($"generating {nMax} candidates", m + 1, set.Captions.Count, caption.Caption));
            long seed = options.Seed + (long)m * nMax;
            var images = generator.Generate(Request(options, caption.Caption, nMax, seed), cancellationToken: cancellationToken);
            var pixels = images.Select(i => i.Image).ToList();
            var rerankerVectors = reranker.EmbedImages(pixels, cancellationToken);
            var judged = judge.Judge(m, pixels, cancellationToken);
            var candidates = images.Select((image, i) => new ScoredCandidate(image.Seed, Reranker.Cosine(captionVectors[m], rerankerVectors[i]), judged[i])).ToList();
            var kept = counts.Select(n => Reranker.Order(captionVectors[m], [.. rerankerVectors.Take(n)])[0].Index).ToList();
            perCaption.Add(new RerankedCaption(caption, candidates, kept, real[m]));
            if (m < options.SampleCaptions) samples.Add(pixels);
        }

        var rows = counts.Select((n, c) => new RerankingRow(n,
            MetricSummary.Of([.. perCaption.Select(p => p.Candidates[p.Kept[c]].RerankerCosine)], -1, 1),
            JudgementSummary.Of([.. perCaption.Select(p => p.Candidates[p.Kept[c]].Judge)]),
            MetricSummary.Of([.. perCaption.Select(p => Hit(p.Candidates[p.Kept[c]].Judge) - Hit(p.Candidates[0].Judge))], -1, 1))).ToList();
        return new RerankingStudyResult(generator.Source, generator.Kind, reranker.Name, judge, options.Seed, counts, rows,
            JudgementSummary.Of([.. perCaption.Select(p => (IReadOnlyList<Judgement>)[.. p.Candidates.Select(c => c.Judge)])]),
            JudgementSummary.Of(real), perCaption, settings, samples);
    }

    static double Hit(Judgement j) => j.CaptionFirst ? 1 : 0;

    internal static TextToImageRequest Request(RerankingStudyOptions options, string caption, int count, long seed) =>
        (options.Settings ?? new TextToImageRequest { Prompt = caption }) with { Prompt = caption, Count = count, Seed = seed };
}
