using System.CommandLine;
using System.Text.Json;
using SharpClip.Search;
using Spectre.Console;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip search</c>: text, image and combined queries over an index; a table on a terminal, tab-separated lines (rank, score, path, caption) into a file or pipe.</summary>
public static class SearchCommand
{
    public static Command Create()
    {
        var text = new Argument<string?>("text") { Description = "What to look for, e.g. \"a red bicycle\"", Arity = ArgumentArity.ZeroOrOne };
        var index = new Option<string>("--index") { Description = "Index file made by 'sharpclip index'", Required = true };
        var model = new Option<string>("--model", "-m") { Description = "Model to embed the query with; default: the index's own" };
        var image = new Option<string>("--image") { Description = "An image file to search by (combined with the text if both are given)" };
        var negative = new Option<string>("--negative") { Description = "Text to steer away from" };
        var k = new Option<int>("-k", "--top") { Description = "Number of results", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print results as JSON" };
        var cmd = new Command("search", "Find the images closest to a text and/or an image.");
        cmd.Arguments.Add(text);
        foreach (var o in new Option[] { index, model, image, negative, k, json }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            using var idx = ImageIndex.Open(parse.GetValue(index)!);
            using var encoder = EncoderResolver.OpenFor(idx, parse.GetValue(model));
            using var engine = new SearchEngine(idx, encoder);
            float[]? imageEmbedding = null;
            if (parse.GetValue(image) is { } imagePath)
            {
                using var stream = File.OpenRead(imagePath);
                imageEmbedding = encoder.EmbedImage(stream);
            }
            var query = new SearchQuery { Text = parse.GetValue(text), Image = imageEmbedding, Negative = parse.GetValue(negative) };
            int top = parse.GetValue(k);
            if (top < 1) throw new ArgumentException($"-k must be at least 1, got {top}");
            var hits = engine.Search(query, top);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { query = new { query.Text, image = parse.GetValue(image), query.Negative, k = top }, results = hits }, CliJson.Options));
                return 0;
            }
            if (!Terminal.Out)
            {
                for (int i = 0; i < hits.Count; i++) Console.WriteLine($"{i + 1}\t{hits[i].Score:F4}\t{hits[i].Path}\t{hits[i].Caption?.ReplaceLineEndings(" ")}");
                return 0;
            }
            var table = new Table().AddColumns("#", "score", "image", "caption");
            for (int i = 0; i < hits.Count; i++)
                table.AddRow((i + 1).ToString(), hits[i].Score.ToString("F4"), Markup.Escape(hits[i].Path), Markup.Escape(hits[i].Caption ?? ""));
            AnsiConsole.Write(table);
            return 0;
        }));
        return cmd;
    }
}
