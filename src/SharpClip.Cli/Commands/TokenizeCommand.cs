using System.CommandLine;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip tokenize</c>: placeholder until the tokenizer lands (issue 2); replaced by the Text/ work.</summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var cmd = new Command("tokenize", "Print CLIP token ids for each text as a JSON array.");
        cmd.SetAction(_ => CliErrors.Guard(() => throw new NotSupportedException("tokenize is not implemented yet")));
        return cmd;
    }
}
