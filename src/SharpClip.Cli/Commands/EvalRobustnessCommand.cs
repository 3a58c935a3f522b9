using System.CommandLine;
using SharpClip.Demos.Emoji;
using SharpClip.Evaluation;
using SharpClip.ZeroShot;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip eval robustness --model M (--data-root D | -d STYLE=SPEC...) -o OUT</c>: the same classes in every
/// style, zero-shot accuracy side by side (<see cref="RobustnessEvaluator"/>).
/// </summary>
public static class EvalRobustnessCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var root = new Option<string?>("--data-root") { Description = "A prepared emoji folder (sharpclip datasets prepare emoji), or a folder of style folders (each a class-per-folder tree or one path,label CSV)." };
        var data = new Option<string[]>("--data", "-d") { Description = "Instead of --data-root: STYLE=SPEC per style (SPEC a class-per-folder tree or path,label CSV). Repeat." };
        var task = new Option<string>("--task") { Description = "Emoji task: groups (8 Unicode groups) or subgroups.", DefaultValueFactory = _ => "groups" };
        var split = new Option<string>("--split") { Description = "Emoji split: test, val or train.", DefaultValueFactory = _ => "test" };
        var templates = PromptOptions.Templates("'{}', 'an emoji of {}', '{} emoji' for emoji folders, else 'a photo of a {}.'");
        var wild = new Option<string[]>("--wild") { Description = "An extra 'wild' column with its own classes, scored by balanced accuracy: [NAME=]SPEC, SPEC a prepared openclipart folder (sharpclip datasets prepare openclipart), a class-per-folder tree or a path,label CSV. Repeat." };
        var output = EvalFlags.Output();
        var cache = EvalFlags.Cache();
        var cmd = new Command("robustness", "The same classes on every style: zero-shot accuracy per style side by side, and the drop under shift.");
        model.AddTo(cmd);
        foreach (var o in new Option[] { root, data, task, split, templates, wild, output, cache }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            var outDir = parse.GetValue(output)!;
            var specs = parse.GetValue(data) ?? [];
            var rootDir = parse.GetValue(root);
            if ((rootDir is null) == (specs.Length == 0)) throw new ArgumentException("give either --data-root or one --data STYLE=SPEC per style");
            var styles = rootDir is not null
                ? EmojiStyleSets.FromRoot(rootDir, parse.GetValue(task)!, parse.GetValue(split)!)
                : specs.Select(s => s.IndexOf('=') is var eq and > 0
                    ? new StyleSet(s[..eq], null, EvalCommand.Single(s[(eq + 1)..], "--data"))
                    : throw new ArgumentException($"--data {s}: expected STYLE=SPEC")).ToList();
            var wildSets = (parse.GetValue(wild) ?? []).Select(w => w.IndexOf('=') is var eq and > 0 && !File.Exists(w) && !Directory.Exists(w)
                ? EmojiStyleSets.OpenWild(w[(eq + 1)..], w[..eq]) : EmojiStyleSets.OpenWild(w)).ToList();
            var emoji = rootDir is not null && EmojiStyleSets.IsPrepared(rootDir);
            var prompts = PromptTemplates.Resolve(parse.GetValue(templates)) ?? (emoji ? EmojiStyleSets.Templates : null);
            var options = new EvaluationOptions { CacheDirectory = EvalFlags.CacheDirectory(parse.GetValue(cache), outDir) };
            using var pipeline = model.Load(parse);
            var progress = new List<ConsoleProgress>();
            Func<StyleSet, IProgress<int>?> bar = s => { var p = new ConsoleProgress(s.Style, s.Dataset.Items.Count); progress.Add(p); return p; };
            var result = RobustnessEvaluator.Evaluate(pipeline, styles, prompts, options, bar);
            result = result with { Wild = RobustnessEvaluator.EvaluateWild(pipeline, wildSets, prompts, options, bar) };
            foreach (var p in progress) p.Dispose();
            var files = RobustnessReport.Write(outDir, pipeline.Source, emoji ? $"emoji {parse.GetValue(task)} ({parse.GetValue(split)})" : "zero-shot", result);
            Console.Write(RobustnessReport.ConsoleTable(result, files));
            return EvalFlags.WarnSkipped(result.Styles.Concat(result.Wild).Select(s => (s.Style, s.Result.Skipped, s.Result.Failures)));
        }));
        return cmd;
    }
}
