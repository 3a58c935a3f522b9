using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using SharpClip.Cli.Commands;
using SharpClip.Demos;

namespace SharpClip.Cli;

public static class Program
{
    /// <summary>The tool's name in help, usage and errors, however it was started (dotnet tool, dotnet run, dotnet SharpClip.Cli.dll).</summary>
    public const string ToolName = "sharpclip";

    public static int Main(string[] args)
    {
        // The CLI offers the demo data sets (synthetic:, emoji:) and the toy encoder wherever a spec or model is taken.
        DemoRegistry.RegisterAll();
        var parse = CreateRoot().Parse(args);
        if (parse.Action is ParseErrorAction) return CliErrors.ParseFailed(parse);
        OldSpellings.WarnIfUsed(parse);
        return CliErrors.Run(() => parse.Invoke());
    }

    /// <summary>
    /// Every verb, as one System.CommandLine tree (the tests walk it: <c>VerbConsistencyTests</c>). The root is a plain
    /// command named <see cref="ToolName"/> rather than a RootCommand, whose name is the executable's file name.
    /// </summary>
    public static Command CreateRoot()
    {
        var root = new Command(ToolName, "SharpClip: CLIP for .NET — embeddings, zero-shot classification, training, evaluation and image search.");
        root.Options.Add(new HelpOption());
        root.Options.Add(new VersionOption());
        // One line per verb; each verb lives in Commands/<Verb>Command.cs.
        root.Subcommands.Add(TokenizeCommand.Create());
        root.Subcommands.Add(PreprocessCommand.Create());
        root.Subcommands.Add(EmbedCommand.Create());
        root.Subcommands.Add(ClassifyCommand.Create());
        root.Subcommands.Add(SimilarityCommand.Create());
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(ConvertCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(IndexCommand.Create());
        root.Subcommands.Add(SearchCommand.Create());
        root.Subcommands.Add(DedupCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(RerankCommand.Create());
        root.Subcommands.Add(ScoreCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(TrainDvaeCommand.Create());
        root.Subcommands.Add(TrainDalleCommand.Create());
        root.Subcommands.Add(TrainDiffusionCommand.Create());
        root.Subcommands.Add(QuickstartCommand.Create());
        root.Subcommands.Add(DatasetsCommand.Create());
        OldSpellings.HideFromHelp(root);
        return root;
    }
}
