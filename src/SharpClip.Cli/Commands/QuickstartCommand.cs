using System.CommandLine;
using SharpClip.Demos;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip quickstart [-o DIR] [--steps N] [--data auto|emoji|synthetic] [--fresh]</c>: runs the demo recipe
/// (<see cref="Quickstart"/>: prepare data, train a small CLIP, evaluate it, index and search images with it) and
/// prints its narration, progress and search results. Run again, it reuses the finished model (or resumes it).
/// </summary>
public static class QuickstartCommand
{
    public static Command Create()
    {
        var output = OldSpellings.Alias(new Option<string>("--output", "-o") { Description = "Folder for the model, its metrics and the search demo.", DefaultValueFactory = _ => Path.Combine("runs", "quickstart") }, "--out");
        var steps = new Option<int?>("--steps") { Description = "Training steps (default: 1000 of 128 pairs on emoji, 400 of 64 on synthetic shapes)." };
        var data = new Option<string>("--data") { Description = "auto (emoji when npm can fetch it, else synthetic), emoji or synthetic.", DefaultValueFactory = _ => "auto" };
        var seed = new Option<int>("--seed") { Description = "Seed for data, initialisation and order.", DefaultValueFactory = _ => 1 };
        var fresh = new Option<bool>("--fresh") { Description = "Delete the model an earlier quickstart trained in the output folder and train a new one (default: reuse a finished run, resume an unfinished one)." };
        var cmd = new Command("quickstart", "Train a small CLIP on built-in data, evaluate it zero-shot, and search images with it (offline, a few minutes).");
        foreach (var o in new Option[] { output, steps, seed, data, fresh }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            int? n = parse.GetValue(steps);
            if (n is < 1) throw new ArgumentException($"--steps {n}: must be at least 1");
            var which = parse.GetValue(data)!.ToLowerInvariant() switch
            {
                "auto" => QuickstartData.Auto,
                "emoji" => QuickstartData.Emoji,
                "synthetic" => QuickstartData.Synthetic,
                var other => throw new ArgumentException($"--data {other}: expected auto, emoji or synthetic"),
            };
            using var cancel = new CtrlC();
            var options = new QuickstartOptions { Root = parse.GetValue(output)!, Steps = n, Data = which, Seed = parse.GetValue(seed), Fresh = parse.GetValue(fresh) };
            QuickstartSummary summary;
            using (var console = new QuickstartConsole())
                summary = Quickstart.Run(options, console, cancel.Token);
            Print(summary);
            return 0;
        }));
        return cmd;
    }

    static void Print(QuickstartSummary s)
    {
        Console.WriteLine($"4/4 indexed {s.Indexed} images from {s.ImagesFolder}");
        foreach (var (query, hits) in s.Searches)
        {
            Console.WriteLine($"    search \"{query}\":");
            foreach (var hit in hits)
                Console.WriteLine($"      {hit.Score:F3}  {Path.GetRelativePath(s.ImagesFolder, hit.Path)}  {hit.Caption?.Split('\n')[0]}");
        }
        Console.WriteLine();
        Console.WriteLine($"model folder: {s.ModelFolder}");
        Console.WriteLine($"web app:      sharpclip serve --index {s.IndexPath}");
    }
}
