using SharpClip.Data;
using System.CommandLine;
using SharpClip.Evaluation;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip eval zeroshot|retrieval|linear-probe|robustness|styles|generation ...</c>: the CLIP paper's evaluations of a model
/// on labelled or captioned data; every run writes JSON and Markdown reports (and plots) to <c>--output</c> and prints a
/// table. Each sub-verb lives in its own Eval*Command file.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var cmd = new Command("eval", "Evaluate a model: zero-shot classification, retrieval recall, linear and few-shot probes.");
        cmd.Subcommands.Add(EvalZeroShotCommand.Create());
        cmd.Subcommands.Add(EvalRetrievalCommand.Create());
        cmd.Subcommands.Add(EvalLinearProbeCommand.Create());
        cmd.Subcommands.Add(EvalRobustnessCommand.Create());
        cmd.Subcommands.Add(EvalStylesCommand.Create());
        cmd.Subcommands.Add(EvalGenerationCommand.Create());
        return cmd;
    }

    /// <summary>The repeatable <c>--data</c> option of the evaluations that take several sets.</summary>
    internal static Option<string[]> DataOption(string what) => new("--data", "-d")
    {
        Description = what,
        Required = true,
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>The one labelled set <paramref name="spec"/> names; a spec naming several tasks must pick one with #task.</summary>
    internal static LabeledDataset Single(string spec, string option)
    {
        var sets = LabeledDatasets.Open(spec);
        return sets.Count == 1 ? sets[0] : throw new ArgumentException($"{option} {spec}: names {sets.Count} tasks; pick one with #task (e.g. {spec}#shape)");
    }
}
