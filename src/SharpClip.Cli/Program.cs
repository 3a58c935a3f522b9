using System.CommandLine;
using SharpClip.Cli.Commands;

namespace SharpClip.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("SharpClip: CLIP for .NET — embeddings, zero-shot classification, training, evaluation and image search.");
        // One line per verb; each verb lives in Commands/<Verb>Command.cs.
        root.Subcommands.Add(TokenizeCommand.Create());
        root.Subcommands.Add(PreprocessCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        return CliErrors.Run(() => root.Parse(args).Invoke());
    }
}
