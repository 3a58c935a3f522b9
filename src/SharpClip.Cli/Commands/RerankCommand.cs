using System.CommandLine;
using System.Text.Json;
using SharpClip.Scoring;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip rerank --model M --prompt "..." IMAGE... [--top K] [--json]</c>: candidate images ordered by similarity
/// to the caption, best first (as DALL-E reranks its samples).
/// </summary>
public static class RerankCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var prompt = new Option<string>("--prompt", "-p") { Description = "The caption the candidates should match.", Required = true };
        var top = new Option<int?>("--top", "-k") { Description = "Show only the K best candidates (default: all)." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var images = new Argument<string[]>("IMAGE") { Description = "Candidate image files or folders.", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("rerank", "Order candidate images by how well they match a caption.");
        model.AddTo(cmd);
        cmd.Options.Add(prompt);
        cmd.Options.Add(top);
        cmd.Options.Add(json);
        cmd.Arguments.Add(images);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            var files = ImageInputs.Expand(parse.GetValue(images) ?? []);
            using var pipeline = model.Load(parse);
            RerankResult result;
            using (var progress = new ConsoleProgress("images", files.Count))
                result = Reranker.Rerank(pipeline, parse.GetValue(prompt)!, files, parse.GetValue(top), progress);
            foreach (var f in result.Failed) Console.Error.WriteLine($"skipped {f.Source}: {f.Error}");
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    prompt = result.Prompt,
                    ranked = result.Ranked.Select(r => new { rank = r.Rank, file = r.Source, cosine = r.Cosine, logit = r.Logit }),
                    skipped = result.Failed.Select(f => new { file = f.Source, error = f.Error }),
                }, CliJson.Options));
            else
            {
                Console.WriteLine($"{"rank",4}  {"cosine",8}  {"logit",8}  file");
                foreach (var r in result.Ranked) Console.WriteLine($"{r.Rank,4}  {r.Cosine,8:F4}  {r.Logit,8:F3}  {r.Source}");
            }
            return result.Failed.Count > 0 ? ExitCodes.SomeInputsFailed : 0;
        }));
        return cmd;
    }
}
