using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpClip.Generation.TextToImage;
using SharpClip.Plotting;

namespace SharpClip.Generation.Studies;

/// <summary>How the study reports write numbers: JSON nodes for summaries and judgements, Markdown cells, one culture.</summary>
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

    public static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>A Markdown cell's text: pipes escaped, line breaks flattened.</summary>
    public static string Cell(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace('\n', ' ');
}
