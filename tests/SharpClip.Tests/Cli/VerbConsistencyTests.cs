using System.CommandLine;
using System.CommandLine.Help;
using SharpClip.Cli;
using SharpClip.Tests.Search;

namespace SharpClip.Tests.Cli;

/// <summary>
/// Walks every verb of the <c>sharpclip</c> command tree and fails when the vocabulary drifts apart again: a model
/// taken without <c>-m/--model</c>, <c>--batch</c> or <c>--out</c> (or <c>--dir</c>) shown instead of
/// <c>--batch-size</c> / <c>-o/--output</c>, a second name for the prompt-set option, a verb or option without a
/// description, help or an error that does not call the tool <c>sharpclip</c>. Old spellings must stay hidden yet parse.
/// </summary>
public class VerbConsistencyTests
{
    /// <summary>Verbs that take no model (everything else loads one and must say so with -m/--model).</summary>
    static readonly HashSet<string> TakeNoModel = new(StringComparer.Ordinal)
    {
        "preprocess",                      // a preprocessing config or size, no weights
        "convert",                         // SRC and DST, as cp: the checkpoint is the thing converted
        "dedup",                           // compares stored embeddings
        "quickstart",                      // trains its own
        "train-dvae",                      // trains a dVAE from scratch
        "train-dalle",                     // trains from scratch on the tokens of --dvae (a part, not the model)
        "train-diffusion",                 // trains from scratch; the frozen CLIP (--clip) and autoencoder are parts, not the model
        "datasets prepare emoji", "datasets prepare openclipart",
    };

    /// <summary>Spellings that the one vocabulary replaced, never to be shown again.</summary>
    static readonly string[] Replaced = ["--batch", "--out", "--dir", "--dataset", "--prompts-dataset", "--prompt-set", "--prompts", "--template"];

    static IEnumerable<(string Path, Command Command)> Walk(Command command, string path = "")
    {
        yield return (path, command);
        foreach (var sub in command.Subcommands)
            foreach (var found in Walk(sub, path.Length == 0 ? sub.Name : $"{path} {sub.Name}"))
                yield return found;
    }

    static List<(string Path, Command Command)> Verbs() => [.. Walk(Program.CreateRoot()).Where(v => v.Command.Action is not null && v.Path.Length > 0)];

    static bool BuiltIn(Option o) => o is HelpOption or VersionOption;

    /// <summary>The names help shows for <paramref name="option"/>: its aliases minus the hidden old spellings.</summary>
    static HashSet<string> Shown(Option option) =>
        [.. new[] { option.Name }.Concat(option.Aliases).Except(OldSpellings.Of(option))];

    static IEnumerable<(string Verb, Option Option)> VisibleOptions() =>
        Verbs().SelectMany(v => v.Command.Options.Where(o => !o.Hidden && !BuiltIn(o)).Select(o => (v.Path, o)));

    [Fact]
    public void TheTreeHasTheVerbsThisTestKnows()
    {
        var verbs = Verbs().Select(v => v.Path).ToList();
        Assert.True(verbs.Count >= 20, string.Join(", ", verbs));   // the walk reaches the nested verbs too
        Assert.Contains("eval linear-probe", verbs);
        Assert.Contains("datasets prepare emoji", verbs);
        Assert.Empty(TakeNoModel.Except(verbs));                      // no stale exemption
    }

    [Fact]
    public void EveryVerbThatTakesAModelHasDashMAndDashDashModel()
    {
        var missing = Verbs().Where(v => !TakeNoModel.Contains(v.Path))
            .Where(v => !v.Command.Options.Any(o => !o.Hidden && Shown(o).IsSupersetOf(["-m", "--model"])))
            .Select(v => v.Path).ToList();
        Assert.True(missing.Count == 0, "verbs without -m/--model: " + string.Join(", ", missing));
        var halfModel = VisibleOptions().Where(v => Shown(v.Option).Contains("--model") != Shown(v.Option).Contains("-m")).Select(v => v.Verb).ToList();
        Assert.True(halfModel.Count == 0, "--model without -m (or -m for something else): " + string.Join(", ", halfModel));
    }

    [Fact]
    public void NoReplacedSpellingIsShownAndOutputAndBatchSizeHaveOneName()
    {
        var problems = new List<string>();
        foreach (var (verb, option) in VisibleOptions())
        {
            var names = Shown(option);
            foreach (var name in names.Intersect(Replaced)) problems.Add($"{verb}: {name}");
            if (names.Contains("-o") != names.Contains("--output")) problems.Add($"{verb}: -o and --output must be one option ({string.Join(", ", names)})");
            foreach (var name in names.Where(n => n.StartsWith("--batch", StringComparison.Ordinal) && n != "--batch-size")) problems.Add($"{verb}: {name}");
            foreach (var name in names.Where(n => n.StartsWith("--out", StringComparison.Ordinal) && n != "--output")) problems.Add($"{verb}: {name}");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void ThePromptSetOptionHasOneName()
    {
        // Every visible option about prompt templates, across classify and the eval verbs, is --templates (rerank's
        // --prompt is the caption to match, not a prompt set).
        var promptOptions = VisibleOptions().Where(v => v.Option.Description!.Contains("template", StringComparison.OrdinalIgnoreCase)
                                                        || Shown(v.Option).Any(n => n.Contains("template", StringComparison.Ordinal) || n.Contains("prompts", StringComparison.Ordinal)))
            .ToList();
        Assert.Contains(promptOptions, v => v.Verb == "classify");
        Assert.Contains(promptOptions, v => v.Verb == "eval zeroshot");
        var names = promptOptions.Select(v => v.Option.Name).Distinct().ToList();
        Assert.True(names.SequenceEqual(["--templates"]), "prompt-set options: " + string.Join(", ", promptOptions.Select(v => $"{v.Verb} {v.Option.Name}")));
    }

    [Fact]
    public void EveryVerbGroupAndOptionIsDescribed()
    {
        var undescribed = Walk(Program.CreateRoot())
            .SelectMany(v => new[] { (v.Path, (Symbol)v.Command) }
                .Concat(v.Command.Options.Where(o => !BuiltIn(o)).Select(o => (v.Path, (Symbol)o)))
                .Concat(v.Command.Arguments.Select(a => (v.Path, (Symbol)a))))
            .Where(s => string.IsNullOrWhiteSpace(s.Item2.Description))
            .Select(s => $"{s.Path}: {s.Item2.Name}").ToList();
        Assert.True(undescribed.Count == 0, "no description: " + string.Join(", ", undescribed));
    }

    [Fact]
    public void OldSpellingsAreHiddenFromHelpButStillParse()
    {
        var aliased = Verbs().SelectMany(v => v.Command.Options.SelectMany(o => OldSpellings.Of(o).Select(old => (v.Path, Option: o, Old: old)))).ToList();
        // Each rename of the one vocabulary keeps its old spelling for a release.
        Assert.Equal(new[] { "--batch", "--dir", "--out" }, aliased.Select(a => a.Old).Distinct().Order(StringComparer.Ordinal));
        foreach (var (verb, option, old) in aliased)
        {
            var help = Help(verb);
            Assert.DoesNotContain(old + ",", help);
            Assert.DoesNotContain(old + " <", help);
            var parse = Program.CreateRoot().Parse([.. verb.Split(' '), old, "x"]);
            Assert.True(parse.GetResult(parse.CommandResult.Command.Options.Single(o => o.Name == option.Name)) is { Implicit: false },
                $"{verb} {old} no longer parses as {option.Name}");
        }
        var retired = Verbs().SelectMany(v => v.Command.Options.Where(o => OldSpellings.ReplacementOf(o) is not null).Select(o => (v.Path, o))).ToList();
        Assert.Equal(["classify --dataset", "eval zeroshot --prompts-dataset"], retired.Select(r => $"{r.Path} {r.o.Name}").Order(StringComparer.Ordinal));
        Assert.All(retired, r => Assert.True(r.o.Hidden));
    }

    [Fact]
    public void HelpCallsTheToolSharpclip()
    {
        Assert.Contains("sharpclip [command] [options]", Help(""));
        foreach (var (verb, _) in Verbs())
        {
            var help = Help(verb);
            Assert.Contains($"sharpclip {verb}", help);
            Assert.DoesNotContain("SharpClip.Cli", help);
        }
    }

    [Fact]
    public void TrainHelpShowsTheDefaults()
    {
        var help = Help("train");
        var defaults = new SharpClip.Training.TrainingConfig();
        foreach (var (flag, value) in new[] { ("--batch-size", $"{defaults.BatchSize}"), ("--warmup", $"{defaults.WarmupSteps}"), ("--eval-every", $"{defaults.EvalEvery}"), ("--model", defaults.Model) })
        {
            var line = help.Split('\n').Single(l => l.Contains(flag + " <", StringComparison.Ordinal) && !l.Contains("micro", StringComparison.Ordinal));
            Assert.Contains($"[default: {value}]", line);
        }
    }

    [Fact]
    public void AParseErrorIsOneSharpclipLineNamingTheVerbsHelp()
    {
        var (exit, stdout, stderr) = CliProcess.Run("dedup", "--no-such-flag");   // a verb without arguments, which would take the token
        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("sharpclip: error: ", line);
        Assert.Contains("--no-such-flag", line);
        Assert.Contains("sharpclip dedup --help", line);
    }

    static string Help(string verb)
    {
        var output = new StringWriter();
        var parse = Program.CreateRoot().Parse([.. verb.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]);
        Assert.Equal(0, parse.Invoke(new InvocationConfiguration { Output = output, Error = output }));
        return output.ToString();
    }
}
