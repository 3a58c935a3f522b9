using System.CommandLine;
using SharpClip.Demos.Emoji;
using SharpClip.Demos.OpenClipart;
using SharpClip.Evaluation;
using SharpClip.ZeroShot;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip eval styles --model M [--data-root D] -o OUT</c>: zero-shot, few-shot, linear-probe and retrieval
/// results side by side for every style of the prepared emoji data — one table per model.
/// </summary>
public static class EvalStylesCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var root = new Option<string?>("--data-root") { Description = $"A prepared emoji folder (default: {EmojiDataset.DefaultDirectory})." };
        var styles = new Option<string?>("--styles") { Description = "Comma-separated styles to evaluate (default: all prepared)." };
        var shots = new Option<string>("--shots") { Description = "k-shot sizes, comma-separated ('' for none).", DefaultValueFactory = _ => "1,2,4,8,16" };
        var seeds = new Option<int>("--seeds") { Description = "Random k-shot samples averaged per k.", DefaultValueFactory = _ => 5 };
        var task = new Option<string>("--probe-task") { Description = "Task of the probes: groups (8 classes) or subgroups.", DefaultValueFactory = _ => "groups" };
        var noProbe = new Option<bool>("--no-linear-probe") { Description = "Skip the full linear probe (few-shot probes only)." };
        var wild = new Option<string[]>("--wild") { Description = "Out-of-domain set scored zero-shot on its own classes: [NAME=]SPEC (a prepared openclipart folder, class tree or path,label CSV). Repeat; default: the prepared OpenClipart set when present." };
        var templates = PromptOptions.Templates("'{}', 'an emoji of {}', '{} emoji'.");
        var output = EvalFlags.Output();
        var cache = EvalFlags.Cache();
        var cmd = new Command("styles", "Every style of the emoji data side by side: zero-shot (groups, subgroups), k-shot and full linear probes, retrieval R@1/5/10.");
        model.AddTo(cmd);
        foreach (var o in new Option[] { root, styles, shots, seeds, task, noProbe, wild, templates, output, cache }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            var outDir = parse.GetValue(output)!;
            var probeTask = parse.GetValue(task)!;
            if (probeTask is not ("groups" or "subgroups")) throw new ArgumentException($"--probe-task {probeTask}: expected groups or subgroups");
            var k = EvalFlags.Shots(parse.GetValue(shots)!, allowNone: true);
            var options = new StyleEvaluationOptions
            {
                Templates = PromptTemplates.Resolve(parse.GetValue(templates)),
                Shots = k, Seeds = parse.GetValue(seeds), ProbeTask = probeTask, FullProbe = !parse.GetValue(noProbe),
                CacheDirectory = EvalFlags.CacheDirectory(parse.GetValue(cache), outDir),
                Styles = parse.GetValue(styles)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Wild = parse.GetValue(wild) is { Length: > 0 } specs
                    ? specs.Select(w => w.IndexOf('=') is var eq and > 0 ? EmojiStyleSets.OpenWild(w[(eq + 1)..], w[..eq]) : EmojiStyleSets.OpenWild(w)).ToList()
                    : EmojiStyleSets.DefaultWild(),
            };
            var dataRoot = parse.GetValue(root) ?? EmojiDataset.DefaultDirectory;
            StyleEvaluator.RequirePrepared(dataRoot);
            using var pipeline = model.Load(parse);
            var result = StyleEvaluator.Run(pipeline, dataRoot, options, new SyncProgress<string>(m => Console.Error.WriteLine("  " + m)));
            var files = StyleEvaluationReport.Write(outDir, pipeline.Source, result, "sharpclip " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)));
            Console.Write(StyleEvaluationReport.ConsoleTable(result));
            Console.WriteLine($"reports: {string.Join(", ", files.Where(f => !f.EndsWith(".png", StringComparison.Ordinal)))} (+{files.Count(f => f.EndsWith(".png", StringComparison.Ordinal))} plots)");
            return EvalFlags.WarnSkipped(result.Styles.Select(s => (s.Style, s.Skipped, s.Failures))
                .Concat(result.Wild.Select(w => (w.Style, w.Result.Skipped, w.Result.Failures))));
        }));
        return cmd;
    }
}
