using System.CommandLine;
using System.Text.Json;
using SharpClip.Search;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip dedup</c>: list groups of near-duplicate images in an index.</summary>
public static class DedupCommand
{
    public static Command Create()
    {
        var index = new Option<string>("--index") { Description = "Index file made by 'sharpclip index'", Required = true };
        var threshold = new Option<float>("--threshold") { Description = "Cosine similarity at or above which two images count as duplicates", DefaultValueFactory = _ => 0.95f };
        var json = new Option<bool>("--json") { Description = "Print groups as JSON" };
        var cmd = new Command("dedup", "List groups of near-duplicate images (exact blocked similarity, no model needed).");
        foreach (var o in new Option[] { index, threshold, json }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            using var engine = SearchEngine.Open(parse.GetValue(index)!, encoder: null);
            var groups = engine.FindDuplicates(parse.GetValue(threshold));
            var described = groups.Select(g => new
            {
                g.MaxScore,
                g.MinLinkScore,
                images = g.Ids.Select(id => new { id, path = engine.Index.Get(id)?.Path }).ToList(),
            }).ToList();
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { threshold = parse.GetValue(threshold), groups = described }, CliJson.Options));
                return 0;
            }
            Console.WriteLine($"{groups.Count} group(s) of near-duplicates at threshold {parse.GetValue(threshold)}");
            foreach (var g in described)
            {
                Console.WriteLine($"- {g.images.Count} images, similarity {g.MinLinkScore:F4}..{g.MaxScore:F4}");
                foreach (var i in g.images) Console.WriteLine($"    {i.path}");
            }
            return 0;
        }));
        return cmd;
    }
}
