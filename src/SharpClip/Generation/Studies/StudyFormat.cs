using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpClip.Generation.TextToImage;
using SharpClip.Plotting;
using SharpClip.Training;
using SharpClip.Vision;

namespace SharpClip.Generation.Studies;

/// <summary>
/// What the study reports share: JSON nodes for summaries and judgements, Markdown cells in one culture, the
/// R-precision curves of the plot and the sample grid's headings and real-image tiles.
/// </summary>
static class StudyFormat
{
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static JsonObject Node(MetricSummary m) => new()
    {
        ["mean"] = m.Mean, ["standard_error"] = m.StandardError, ["ci95_low"] = m.Low, ["ci95_high"] = m.High, ["n"] = m.Count,
    };

    public static JsonObject Node(JudgementSummary s) => new()
    {
        ["r_precision"] = Node(s.RPrecision),
        ["group_r_precision"] = s.GroupRPrecision is { } g ? Node(g) : null,
        ["clip_score"] = Node(s.ClipScore),
    };

    public static JsonObject Node(Judgement j) => new()
    {
        ["cosine"] = j.Cosine, ["clip_score"] = j.ClipScore, ["caption_first"] = j.CaptionFirst, ["group_first"] = j.GroupFirst,
    };

    /// <summary>The parts every study report opens with: models, data, captions (with their distractors), judge settings.</summary>
    public static JsonObject Header(string study, string generator, string kind, CaptionJudge j, IReadOnlyDictionary<string, object?> settings, long seed)
    {
        var set = j.Set;
        string judge = j.Embedder.Name;
        var header = new JsonObject
        {
            ["record"] = $"sharpclip generation study: {study}",
            ["generator"] = new JsonObject { ["path"] = Path.GetFullPath(generator), ["kind"] = kind, ["sha256_prefix"] = Prefix(generator) },
            ["judge"] = new JsonObject { ["path"] = Path.GetFullPath(judge), ["sha256_prefix"] = Prefix(judge) },
            ["data"] = set.Source,
            ["captions_available"] = set.Available,
            ["seed"] = seed,
            ["k"] = j.K,
            ["chance"] = j.CaptionChance,
            ["groups"] = new JsonArray([.. j.Groups.Select(g => (JsonNode)JsonValue.Create(g))]),
            ["group_templates"] = new JsonArray([.. j.GroupTemplates.Templates.Select(t => (JsonNode)JsonValue.Create(t))]),
            ["group_chance"] = j.GroupChance,
            ["clip_score_weight"] = Scoring.ClipScore.Weight,
            ["settings"] = JsonSerializer.SerializeToNode(settings),
        };
        return header;
    }

    public static JsonObject Caption(CaptionJudge j, int m) => new()
    {
        ["key"] = j.Set.Captions[m].Key, ["caption"] = j.Set.Captions[m].Caption, ["group"] = j.Set.Captions[m].Group,
        ["image"] = j.Set.Captions[m].Image.Describe(),
        ["distractors"] = new JsonArray([.. j.DistractorsOf(m).Select(d => (JsonNode)JsonValue.Create(j.Set.Captions[d].Caption))]),
    };

    static string? Prefix(string path) => File.Exists(path) || Directory.Exists(path) ? TextToImageRun.Sha256Prefix(path) : null;

    /// <summary>"41.3 % (35.2–47.4)".</summary>
    public static string Percent(MetricSummary m) => Invariant($"{m.Mean * 100:0.0} % ({m.Low * 100:0.0}–{m.High * 100:0.0})");

    /// <summary>"0.712 (0.690–0.734)".</summary>
    public static string Value(MetricSummary m) => Invariant($"{m.Mean:0.000} ({m.Low:0.000}–{m.High:0.000})");

    /// <summary>"+12.5 (4.1–20.9)" points.</summary>
    public static string Points(MetricSummary m) => Invariant($"{m.Mean * 100:+0.0;-0.0;0.0} ({m.Low * 100:0.0}–{m.High * 100:0.0})");

    /// <summary>A plotted metric: the means, with whiskers to each point's 95 % interval (cut to the metric's range).</summary>
    public static LineSeries Series(string label, IReadOnlyList<double> xs, IReadOnlyList<MetricSummary> metrics) =>
        new(label, xs, [.. metrics.Select(m => m.Mean)], [.. metrics.Select(m => m.High - m.Mean)]) { ErrorBelow = [.. metrics.Select(m => m.Mean - m.Low)] };

    /// <summary>The group R-precision cell: empty when the judge ranks no groups.</summary>
    public static string Group(JudgementSummary s) => s.GroupRPrecision is { } g ? Percent(g) : "";

    /// <summary>The R-precision curve over the rows' <paramref name="judged"/> summaries, and the group R-precision curve when the judge ranks groups.</summary>
    public static List<LineSeries> PrecisionSeries(string label, IReadOnlyList<double> xs, IReadOnlyList<JudgementSummary> judged)
    {
        var series = new List<LineSeries> { Series(label, xs, [.. judged.Select(s => s.RPrecision)]) };
        if (judged[0].GroupRPrecision is not null) series.Add(Series("group R-precision", xs, [.. judged.Select(s => s.GroupRPrecision!)]));
        return series;
    }

    /// <summary>A sample-grid row's heading: the caption, and its group in brackets.</summary>
    public static string Heading(HeldOutCaption caption) => caption.Caption + (caption.Group is { } g ? $"  [{g}]" : "");

    /// <summary>A tile's verdict: ✓ when the judge ranks the caption first.</summary>
    public static string Mark(Judgement j) => j.CaptionFirst ? "✓" : "✗";

    /// <summary>The sample grid's first tile: the real image, at the generated images' size, with the judge's verdict.</summary>
    public static ContactSheetTile RealTile(HeldOutCaption caption, Judgement real, RgbImage like)
    {
        var image = TrainingInputs.Decode(caption.Image).ToRgb();
        if (image.Width != like.Width || image.Height != like.Height) image = image.Resize(like.Width, like.Height);
        return new ContactSheetTile(image, $"real {Mark(real)}");
    }

    public static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>A Markdown cell's text: pipes escaped, line breaks flattened.</summary>
    public static string Cell(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace('\n', ' ');
}
