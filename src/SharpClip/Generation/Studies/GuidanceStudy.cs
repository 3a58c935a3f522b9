using SharpClip.Generation.TextToImage;
using SharpClip.Vision;

namespace SharpClip.Generation.Studies;

/// <summary>How a guidance study runs.</summary>
public sealed record GuidanceStudyOptions
{
    /// <summary>The classifier-free guidance scales compared (1 = off).</summary>
    public IReadOnlyList<double> Guidance { get; init; } = [1, 3, 5, 7.5];

    /// <summary>Images per caption and scale.</summary>
    public int ImagesPerCaption { get; init; } = 1;

    /// <summary>Caption m's images use seeds <c>Seed + m·ImagesPerCaption + i</c> at every scale: the scales start from the same noise.</summary>
    public long Seed { get; init; }

    /// <summary>The generator's settings (steps, sampler...); its prompt, count, seed and guidance are the study's.</summary>
    public TextToImageRequest? Settings { get; init; }

    /// <summary>Captions whose images are kept for the sample grid (the first ones).</summary>
    public int SampleCaptions { get; init; } = 4;
}

/// <summary>One caption's images per guidance scale (in the study's scale order) and the real image's judgement.</summary>
public sealed record GuidedCaption(HeldOutCaption Caption, IReadOnlyList<IReadOnlyList<(long Seed, Judgement Judge)>> PerScale, Judgement Real);

/// <summary>A row of the study: the judge's metrics of the images made at one guidance scale.</summary>
public sealed record GuidanceRow(double Guidance, JudgementSummary Judge);

/// <summary>
/// What a guidance study measured: the models, the judge (captions, distractors, group prompts), a row per scale, the
/// real images' row (the ceiling), every caption's judged images, the generator settings other than guidance, and per
/// sample caption and scale its images (for the sample grid).
/// </summary>
public sealed record GuidanceStudyResult(
    string Generator, string GeneratorKind, CaptionJudge Judge, long Seed, int ImagesPerCaption, IReadOnlyList<GuidanceRow> Rows, JudgementSummary RealImages, IReadOnlyList<GuidedCaption> PerCaption,
    IReadOnlyDictionary<string, object?> Settings, IReadOnlyList<IReadOnlyList<IReadOnlyList<RgbImage>>> SampleImages);

/// <summary>
/// Latent diffusion's guidance claim, measured (issue 13 §4): for held-out captions the generator makes images at each
/// classifier-free guidance scale from the same seeds, and a separately trained CLIP grades them — R-precision among K
/// captions and among the group prompts, and CLIPScore — against the real held-out images as the ceiling.
/// </summary>
public static class GuidanceStudy
{
    /// <exception cref="ArgumentException">no scales, a scale below 1, no images; settings the generator refuses (a generator without guidance).</exception>
    public static GuidanceStudyResult Run(ITextToImageGenerator generator, CaptionJudge judge, GuidanceStudyOptions options,
        IProgress<StudyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (options.Guidance.Count == 0) throw new ArgumentException("--guidance: no guidance scales");
        if (options.Guidance.Any(g => !(g >= 1))) throw new ArgumentException($"--guidance: {options.Guidance.First(g => !(g >= 1))} is below 1 (1 turns guidance off)");
        if (options.ImagesPerCaption < 1) throw new ArgumentException($"images per caption {options.ImagesPerCaption}: at least 1");
        var scales = options.Guidance.Distinct().Order().ToList();
        var set = judge.Set;
        // Every scale must be one the generator accepts; the settings besides guidance are the same at each, the last's are recorded.
        var settings = scales.Select(g => generator.Resolve(Request(options, set.Captions[0].Caption, g, options.Seed))).ToList()[^1];

        progress?.Report(new StudyProgress("judging the real images", 0, set.Captions.Count, set.Source));
        var real = judge.JudgeRealImages(cancellationToken);
        var perCaption = new List<GuidedCaption>();
        var samples = new List<IReadOnlyList<IReadOnlyList<RgbImage>>>();
        for (int m = 0; m < set.Captions.Count; m++)
        {
            var caption = set.Captions[m];
            long seed = options.Seed + (long)m * options.ImagesPerCaption;
            var perScale = new List<IReadOnlyList<(long, Judgement)>>();
            var sample = new List<IReadOnlyList<RgbImage>>();
            foreach (var g in scales)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new StudyProgress($"generating at guidance {g:G4}", m + 1, set.Captions.Count, caption.Caption));
                var images = generator.Generate(Request(options, caption.Caption, g, seed), cancellationToken: cancellationToken);
                var pixels = images.Select(i => i.Image).ToList();
                var judged = judge.Judge(m, pixels, cancellationToken);
                perScale.Add([.. images.Select((image, i) => (image.Seed, judged[i]))]);
                if (m < options.SampleCaptions) sample.Add(pixels);
            }
            perCaption.Add(new GuidedCaption(caption, perScale, real[m]));
            if (m < options.SampleCaptions) samples.Add(sample);
        }
        var rows = scales.Select((g, s) => new GuidanceRow(g,
            JudgementSummary.Of([.. perCaption.Select(p => (IReadOnlyList<Judgement>)[.. p.PerScale[s].Select(x => x.Judge)])]))).ToList();
        var recorded = settings.ToDictionary(kv => kv.Key, kv => kv.Value);
        recorded.Remove("guidance"); // the study's variable, per row
        return new GuidanceStudyResult(generator.Source, generator.Kind, judge, options.Seed, options.ImagesPerCaption, rows, JudgementSummary.Of(real), perCaption, recorded, samples);
    }

    static TextToImageRequest Request(GuidanceStudyOptions options, string caption, double guidance, long seed) =>
        (options.Settings ?? new TextToImageRequest { Prompt = caption }) with
        {
            Prompt = caption, Count = options.ImagesPerCaption, Seed = seed, GuidanceScale = guidance,
        };
}
