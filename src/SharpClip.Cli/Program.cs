using System.CommandLine;
using SharpClip.Cli.Commands;
using SharpClip.Demos;

namespace SharpClip.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        // The CLI offers the demo data sets (synthetic:, emoji:) and the toy encoder wherever a spec or model is taken.
        DemoRegistry.RegisterAll();
        var root = new RootCommand("SharpClip: CLIP for .NET — embeddings, zero-shot classification, training, evaluation and image search.");
        // One line per verb; each verb lives in Commands/<Verb>Command.cs.
        root.Subcommands.Add(TokenizeCommand.Create());
        root.Subcommands.Add(PreprocessCommand.Create());
        root.Subcommands.Add(EmbedCommand.Create());
        root.Subcommands.Add(ClassifyCommand.Create());
        root.Subcommands.Add(SimilarityCommand.Create());
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(ConvertCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(IndexCommand.Create());
        root.Subcommands.Add(SearchCommand.Create());
        root.Subcommands.Add(DedupCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(RerankCommand.Create());
        root.Subcommands.Add(ScoreCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(QuickstartCommand.Create());
        root.Subcommands.Add(DatasetsCommand.Create());
        return CliErrors.Run(() => root.Parse(args).Invoke());
    }
}
