namespace SharpClip.Generation.Studies;

/// <summary>
/// The judge's metrics of one study row over the captions: R-precision against the K captions, against the group
/// prompts, and CLIPScore. Each caption counts once — when a row has several images per caption, their values are
/// averaged first — so the interval is over captions, the unit the study samples.
/// </summary>
/// <param name="RPrecision">Fraction of captions whose image ranks its own caption first among K.</param>
/// <param name="GroupRPrecision">The same among the group prompts, over the captions that have a group; null when none has.</param>
/// <param name="ClipScore">Mean CLIPScore (w = 2.5).</param>
public sealed record JudgementSummary(MetricSummary RPrecision, MetricSummary? GroupRPrecision, MetricSummary ClipScore)
{
    /// <summary>The summary of <paramref name="perCaption"/>[caption] = that caption's judged images (at least one each).</summary>
    public static JudgementSummary Of(IReadOnlyList<IReadOnlyList<Judgement>> perCaption)
    {
        if (perCaption.Any(j => j.Count == 0)) throw new ArgumentException("every caption needs at least one judged image", nameof(perCaption));
        var grouped = perCaption.Where(j => j[0].GroupFirst is not null).ToList();
        return new JudgementSummary(
            MetricSummary.Of([.. perCaption.Select(j => j.Average(x => x.CaptionFirst ? 1.0 : 0.0))], 0, 1),
            grouped.Count == 0 ? null : MetricSummary.Of([.. grouped.Select(j => j.Average(x => x.GroupFirst == true ? 1.0 : 0.0))], 0, 1),
            MetricSummary.Of([.. perCaption.Select(j => j.Average(x => x.ClipScore))], 0, Scoring.ClipScore.Weight));
    }

    /// <summary>The summary of one judged image per caption.</summary>
    public static JudgementSummary Of(IReadOnlyList<Judgement> oneEach) => Of([.. oneEach.Select(j => (IReadOnlyList<Judgement>)[j])]);
}
